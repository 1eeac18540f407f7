-- Records one attempt of an event and what follows from it, in one step: the attempt in the employer's log, and the
-- event delivered (forgotten), due again, or failed (kept for replay). Only while the event is still claimed, so a host
-- whose claim ran out (and another's attempt went on) does not undo the other's outcome.
-- KEYS[1] due zset, KEYS[2] events hash, KEYS[3] failed zset, KEYS[4] attempts list
-- ARGV[1] event id, ARGV[2] outcome (delivered|retrying|failed), ARGV[3] event JSON after the attempt,
-- ARGV[4] when it is due again / when it failed (unix ms), ARGV[5] attempt (JSON), ARGV[6] attempts kept,
-- ARGV[7] the claim's expiry this host holds
-- Returns 1 when settled, 0 when the claim was lost.
if redis.call('ZSCORE', KEYS[1], ARGV[1]) ~= ARGV[7] then return 0 end
if ARGV[2] == 'delivered' then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
elseif ARGV[2] == 'retrying' then
  redis.call('ZADD', KEYS[1], ARGV[4], ARGV[1])
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
else
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
  redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
end
redis.call('LPUSH', KEYS[4], ARGV[5])
redis.call('LTRIM', KEYS[4], 0, tonumber(ARGV[6]) - 1)
return 1
