-- Takes an event off an announcement's outbox into its employer's queue. Idempotent per event id (HSETNX), so an
-- outbox entry taken twice — its host died before XACK, and XAUTOCLAIM gave it to another — is queued once.
-- KEYS[1] employer's events hash, KEYS[2] employer's due zset
-- ARGV[1] event id, ARGV[2] event (JSON), ARGV[3] due (unix ms)
-- Returns 1 when queued, 0 when it was queued before.
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return 1
