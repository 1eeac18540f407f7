-- Changes a lease only for its owner: renew it, or end it (requeue for later, or remove when finished). A
-- dispatcher whose lease expired and was taken over must not extend, hand back or requeue the new owner's lease.
-- KEYS[1] due ZSET, KEYS[2] in-flight ZSET, KEYS[3] lease owners HASH
-- ARGV[1] id, ARGV[2] owner, ARGV[3] 'renew' | 'requeue' | 'remove', ARGV[4] new lease expiry or due time (ms)
-- Returns 1 when done, 0 when the announcement is not in flight, -1 when another dispatcher owns the lease.
-- A finished announcement never waits in the due queue, whoever holds it.
if ARGV[3] == 'remove' then redis.call('ZREM', KEYS[1], ARGV[1]) end
if not redis.call('ZSCORE', KEYS[2], ARGV[1]) then return 0 end
if redis.call('HGET', KEYS[3], ARGV[1]) ~= ARGV[2] then return -1 end
if ARGV[3] == 'renew' then
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
  return 1
end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
if ARGV[3] == 'requeue' then redis.call('ZADD', KEYS[1], ARGV[4], ARGV[1]) end
return 1
