-- A retry on request: each chosen delivery goes back to pending (its record is removed, wherever it lives:
-- delivery-records.lua, prepended) so the next pass claims it with SET NX and sends it once more, and its attempts
-- go up by one. Compare-and-set on the exact record the caller read, in one step with the status check: a second
-- POST, a double click or a second replica either finds the record already gone (or replaced by the retry's own
-- outcome) and leaves it, or finds the announcement dispatching and does nothing, so a delivery gets one attempt
-- per retry, never two. A retry that brought the announcement back meanwhile (and whose pass may have ended again, with
-- new records) changed 'retriedAt': a caller that looked before that takes nothing.
-- KEYS[1] announcement hash, KEYS[2] attempts hash (employee id → attempts), KEYS[2 + i] delivery key i
-- ARGV[1] the announcement's 'retriedAt' when the caller looked ('' for none), ARGV[2i] the record the caller chose
-- delivery i by, ARGV[2i + 1] the counter that record is counted in (DeliveryStates, the one definition)
-- Returns how many went back to pending, or -1 when the announcement is missing, scheduled, dispatching, cancelled
-- or retried since.
local state = redis.call('HMGET', KEYS[1], 'status', 'retriedAt')
local status = state[1]
if not status or status == 'scheduled' or status == 'dispatching' or status == 'cancelled' then return -1 end
if (state[2] or '') ~= ARGV[1] then return -1 end
local deltas, retried = {}, 0
for i = 3, #KEYS do
  local current, bucket = record_load(KEYS[1], KEYS[i])
  local counter = ARGV[2 * (i - 2) + 1]
  if current and current == ARGV[2 * (i - 2)] then
    local employee = record_employee(KEYS[i])
    if bucket then redis.call('HDEL', bucket, employee) else redis.call('DEL', KEYS[i]) end
    -- The first send was attempt 1: a delivery without a field has had one.
    if redis.call('HSETNX', KEYS[2], employee, 2) == 0 then redis.call('HINCRBY', KEYS[2], employee, 1) end
    deltas[counter] = (deltas[counter] or 0) - 1
    retried = retried + 1
  end
end
for counter, delta in pairs(deltas) do redis.call('HINCRBY', KEYS[1], counter, delta) end
-- Lives and dies with the announcement (move-announcement.lua): while it has a countdown, so does this hash.
local ttl = redis.call('PTTL', KEYS[1])
if retried > 0 and ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
return retried
