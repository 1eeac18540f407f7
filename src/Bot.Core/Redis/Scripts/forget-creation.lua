-- Drops a pending-creation mark, but only one no newer than the repair's cutoff: a replay of the same request
-- (same Idempotency-Key, so the same id) may have marked it again meanwhile, and that mark must stay until the
-- replay has queued the announcement.
-- KEYS[1] pending-creations ZSET
-- ARGV[1] announcement id, ARGV[2] cutoff (ms)
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) <= tonumber(ARGV[2]) then
  return redis.call('ZREM', KEYS[1], ARGV[1])
end
return 0
