-- Claims announcements for one dispatcher: moves ids from the due queue (and from expired leases in the
-- in-flight set) into the in-flight set with a fresh lease owned by the caller, in one step. Reading the queue
-- and then removing from it in separate calls would let two dispatchers claim the same announcement.
-- KEYS[1] due ZSET, KEYS[2] in-flight ZSET, KEYS[3] lease owners HASH (id -> dispatcher)
-- ARGV[1] now (ms), ARGV[2] lease expiry (ms), ARGV[3] take over leases expiring at or before this (ms),
-- ARGV[4] max ids, ARGV[5] owner
local claimed = {}
local max = tonumber(ARGV[4])
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[3], 'LIMIT', 0, max)) do
  redis.call('ZADD', KEYS[2], ARGV[2], id)
  redis.call('HSET', KEYS[3], id, ARGV[5])
  claimed[#claimed + 1] = id
end
if #claimed < max then
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, max - #claimed)) do
    redis.call('ZREM', KEYS[1], id)
    redis.call('ZADD', KEYS[2], ARGV[2], id)
    redis.call('HSET', KEYS[3], id, ARGV[5])
    claimed[#claimed + 1] = id
  end
end
return claimed
