-- Records an occurrence only while its series is active (see SeriesStore).
-- KEYS[1] series hash, KEYS[2] its occurrences ZSET; ARGV[1] occurrence id, ARGV[2] due (ms)
if redis.call('HGET', KEYS[1], 'status') ~= 'active' then return 0 end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return 1
