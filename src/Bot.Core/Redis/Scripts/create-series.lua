-- Stores a series once; a replay gets the request hash of the first request.
-- KEYS[1] series hash; ARGV[1] request hash, then field/value pairs
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('HGET', KEYS[1], 'requestHash') end
redis.call('HSET', KEYS[1], 'requestHash', unpack(ARGV))
return false
