-- Takes events off an announcement's outbox into its employer's queue, all of one read in one call. Idempotent per
-- event id (HSETNX), so an outbox entry taken twice — its host died before XACK, and XAUTOCLAIM gave it to another — is
-- queued once.
-- KEYS[1] employer's events hash, KEYS[2] employer's due zset
-- ARGV[1] due (unix ms), then per event: ARGV[2k] event id, ARGV[2k+1] event (JSON)
-- Returns how many were queued (the others were queued before).
local queued = 0
for i = 2, #ARGV, 2 do
  if redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]) == 1 then
    redis.call('ZADD', KEYS[2], ARGV[1], ARGV[i])
    queued = queued + 1
  end
end
return queued
