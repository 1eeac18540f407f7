-- Records attempts of events and what follows from each, all of one batch in one step: the attempts in the employer's
-- log, and each event delivered (forgotten), due again, or failed (kept for replay). Each only while the event is still
-- claimed by this host, so a host whose claim ran out (and another's attempt went on) does not undo the other's outcome.
-- KEYS[1] due zset, KEYS[2] events hash, KEYS[3] failed zset, KEYS[4] attempts list
-- ARGV[1] the claim's expiry this host holds, ARGV[2] attempts kept, then per event five: event id,
-- outcome (delivered|retrying|failed), event JSON after the attempt (empty when delivered),
-- when it is due again / when it failed (unix ms), the attempt (JSON); in the order the attempts ended.
-- Returns how many were settled (the others' claims were lost).
local settled = 0
for i = 3, #ARGV, 5 do
  local id, outcome = ARGV[i], ARGV[i + 1]
  if redis.call('ZSCORE', KEYS[1], id) == ARGV[1] then
    if outcome == 'delivered' then
      redis.call('ZREM', KEYS[1], id)
      redis.call('HDEL', KEYS[2], id)
    elseif outcome == 'retrying' then
      redis.call('ZADD', KEYS[1], ARGV[i + 3], id)
      redis.call('HSET', KEYS[2], id, ARGV[i + 2])
    else
      redis.call('ZREM', KEYS[1], id)
      redis.call('HSET', KEYS[2], id, ARGV[i + 2])
      redis.call('ZADD', KEYS[3], ARGV[i + 3], id)
    end
    redis.call('LPUSH', KEYS[4], ARGV[i + 4])
    settled = settled + 1
  end
end
if settled > 0 then redis.call('LTRIM', KEYS[4], 0, tonumber(ARGV[2]) - 1) end
return settled
