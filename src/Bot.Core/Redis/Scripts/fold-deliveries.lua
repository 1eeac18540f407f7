-- Folds delivery records of a final announcement (completed: nothing dispatches it again) from their gate keys into
-- the announcement's buckets (delivery-records.lua, prepended), packed; the gate keys go. The caller set
-- 'foldBuckets' on the announcement before the first call. Idempotent: a record already folded has no gate key.
-- KEYS[1] announcement hash, KEYS[1 + i] delivery key i
-- Returns how many records moved.
local fields, ttls, moved = {}, {}, {}
for i = 2, #KEYS do
  local value = redis.call('GET', KEYS[i])
  if value then
    local bucket = record_bucket(KEYS[1], record_employee(KEYS[i]))
    if not fields[bucket] then
      fields[bucket] = {}
      ttls[bucket] = 0
    end
    local entries = fields[bucket]
    entries[#entries + 1] = record_employee(KEYS[i])
    entries[#entries + 1] = record_pack(value)
    ttls[bucket] = math.max(ttls[bucket], redis.call('PTTL', KEYS[i]))
    moved[#moved + 1] = KEYS[i]
  end
end
for bucket, entries in pairs(fields) do
  redis.call('HSET', bucket, unpack(entries))
  -- A bucket lives as long as the longest-lived record in it.
  if ttls[bucket] > 0 and ttls[bucket] > redis.call('PTTL', bucket) then redis.call('PEXPIRE', bucket, ttls[bucket]) end
end
if #moved > 0 then redis.call('UNLINK', unpack(moved)) end
return #moved
