-- The exactly-once gate: a delivery key is created with SET NX before any send, and only the caller that
-- created it may send. A skipped delivery is counted in the same step so counts can never drift. Once the
-- announcement is folded its records are in buckets and the gate keys are gone: a record there refuses the claim
-- as the gate key would have (delivery-records.lua, prepended).
-- Claims any number of deliveries of one announcement in one call (they share its hash slot): a dispatcher groups the
-- claims its sends ask for while the previous group is in flight, each still asked for right before its own request.
-- KEYS[1] announcement hash, KEYS[2] languages hash (employee → template variant sent), KEYS[3..] delivery keys
-- ARGV[1] ttl seconds; then for each delivery key, three: the value, the counter to increment when created ('' for
-- none), the template variant's language ('' for none, recorded with the claim so it costs no round trip of its own)
-- A record created already settled (failed: expired before it went) is that delivery's event in the announcement's
-- outbox, in the same step (outbox-events.lua, prepended); a plain claim (c) or a skip has none and reads nothing more.
-- Returns, per delivery key: false when this caller created the key, else the existing value.
local function claim(key, value, counter, language)
  local employee = record_employee(key)
  local bucket = record_bucket(KEYS[1], employee)
  if bucket then
    local packed = redis.call('HGET', bucket, employee)
    if packed then return record_unpack(packed) end
  end
  if redis.call('SET', key, value, 'NX', 'EX', ARGV[1]) then
    if counter ~= '' then redis.call('HINCRBY', KEYS[1], counter, 1) end
    if language ~= '' then redis.call('HSET', KEYS[2], employee, language) end
    local state = string.sub(value, 1, 1)
    if state == 'f' or state == 'u' or state == 's' then
      local _, at, reference, err = string.match(value, '^([^|]*)|([^|]*)|?([^|]*)|?([^|]*)')
      local types = { f = 'delivery.failed', u = 'delivery.unknown', s = 'delivery.sent' }
      outbox_emit(KEYS[1], types[state], at, employee, reference, err)
    end
    return false
  end
  return redis.call('GET', key)
end

local results = {}
for i = 3, #KEYS do
  local a = 2 + (i - 3) * 3
  results[i - 2] = claim(KEYS[i], ARGV[a], ARGV[a + 1], ARGV[a + 2])
end
return results
