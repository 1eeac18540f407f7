-- The exactly-once gate: a delivery key is created with SET NX before any send, and only the caller that
-- created it may send. A skipped delivery is counted in the same step so counts can never drift. Once the
-- announcement is folded its records are in buckets and the gate keys are gone: a record there refuses the claim
-- as the gate key would have (delivery-records.lua, prepended).
-- KEYS[1] delivery key, KEYS[2] announcement hash, KEYS[3] languages hash (employee → template variant sent)
-- ARGV[1] value, ARGV[2] ttl seconds, ARGV[3] counter to increment when created ('' for none), ARGV[4] the template
-- variant's language ('' for none), recorded with the claim so it costs no round trip of its own
-- A record created already settled (failed: expired before it went) is that delivery's event in the announcement's
-- outbox, in the same step (outbox-events.lua, prepended); a plain claim (c) or a skip has none and reads nothing more.
-- Returns nil when this caller created the key, else the existing value.
local bucket = record_bucket(KEYS[2], record_employee(KEYS[1]))
if bucket then
  local packed = redis.call('HGET', bucket, record_employee(KEYS[1]))
  if packed then return record_unpack(packed) end
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then
  if ARGV[3] ~= '' then redis.call('HINCRBY', KEYS[2], ARGV[3], 1) end
  if ARGV[4] ~= '' then redis.call('HSET', KEYS[3], record_employee(KEYS[1]), ARGV[4]) end
  local state = string.sub(ARGV[1], 1, 1)
  if state == 'f' or state == 'u' or state == 's' then
    local _, at, reference, err = string.match(ARGV[1], '^([^|]*)|([^|]*)|?([^|]*)|?([^|]*)')
    local types = { f = 'delivery.failed', u = 'delivery.unknown', s = 'delivery.sent' }
    outbox_emit(KEYS[2], types[state], at, record_employee(KEYS[1]), reference, err)
  end
  return false
end
return redis.call('GET', KEYS[1])
