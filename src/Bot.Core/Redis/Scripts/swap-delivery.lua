-- The one move the delivery state machine does not allow, for one case: a text WhatsApp failed with 131047 (the
-- employee was outside the 24-hour window) is claimed again to be re-sent as the employer's fallback template, and
-- back again if that re-send provably did not go out. Compare-and-set on the exact value, so exactly one dispatcher
-- re-sends, and the claim's form ('template') means it can never happen twice. The record may be folded
-- (delivery-records.lua, prepended): the 131047 may come days after the announcement completed.
-- KEYS[1] delivery key, KEYS[2] announcement hash
-- ARGV[1] value expected now, ARGV[2] new value
-- Returns 1 when swapped, else 0.
local current, bucket = record_load(KEYS[2], KEYS[1])
if current ~= ARGV[1] then return 0 end
record_store(KEYS[2], KEYS[1], bucket, ARGV[2])
record_flush()
local counters = { u = 'unknown', s = 'sent', d = 'delivered', r = 'read', f = 'failed', k = 'skipped' }
local from, to = counters[string.sub(ARGV[1], 1, 1)], counters[string.sub(ARGV[2], 1, 1)]
if from then redis.call('HINCRBY', KEYS[2], from, -1) end
if to then redis.call('HINCRBY', KEYS[2], to, 1) end
return 1
