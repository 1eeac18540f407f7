-- Moves a queued announcement's due time; 0 when it is not queued (ZADD XX answers 0 whether or not it updated).
-- KEYS[1] the sender's due ZSET; ARGV[1] announcement id, ARGV[2] due (ms)
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
return 1
