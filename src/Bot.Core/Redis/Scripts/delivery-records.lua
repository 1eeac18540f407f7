-- Prepended to every script that reads or writes delivery records (LuaScripts.WithRecords). A record starts in its
-- gate key (ann:{id}:d:<employee>, created with SET NX before the send) and ends as one field of a folded bucket, a
-- HASH small enough to stay a listpack: ann:{id}:f:<n>, field = employee id, value = the record packed. The
-- announcement hash's 'foldBuckets' says how many buckets there are; the fan-out writes it when sending starts, before
-- any record moves, so a missing gate key then means "look in the bucket", and a claim finds a record there first.
-- A record moves when it settles (record_store: the claim's outcome, a status), so while an announcement dispatches
-- only the claims in flight keep a gate key; whatever is left moves when it completes (fold-deliveries.lua). Bucket
-- keys are built from the announcement key the caller passed (same prefix, same hash tag, so the same slot on a
-- cluster).

local record_forms = { text = 't', template = 'T' }
local record_form_names = { t = 'text', T = 'template' }
local base36_digits = '0123456789abcdefghijklmnopqrstuvwxyz'

-- The bucket of an employee's folded record; nil while the announcement is not folded. DeliveryFold.Bucket is the same
-- function in C#.
local fold_buckets = {}
local function record_bucket(announcement, employee)
  -- Read once per call: a fan-out's batch reads hundreds of records of one announcement.
  if fold_buckets[announcement] == nil then
    fold_buckets[announcement] = tonumber(redis.call('HGET', announcement, 'foldBuckets')) or false
  end
  local buckets = fold_buckets[announcement]
  if not buckets then return nil end
  local h = 0
  for i = 1, #employee do h = (h * 31 + string.byte(employee, i)) % 2147483647 end
  return announcement .. ':f:' .. (h % buckets)
end

local function record_employee(key) return string.match(key, ':d:([^:]*)$') end

-- state|updatedAtMs|reference|error|form  →  state form updatedAt(base 36)|reference|error, where form is t, T or -
-- and becomes w, W or _ when the reference's 'wamid.' prefix was dropped: 64 bytes for a sent record with a
-- 58-character wamid, within hash-max-listpack-value's default.
local function record_pack(value)
  local state, at, reference, err, form = string.match(value, '^([^|]*)|([^|]*)|([^|]*)|?([^|]*)|?([^|]*)$')
  local code = record_forms[form] or '-'
  if string.sub(reference, 1, 6) == 'wamid.' then
    reference = string.sub(reference, 7)
    code = ({ t = 'w', T = 'W', ['-'] = '_' })[code]
  end
  local n, digits = tonumber(at), ''
  repeat
    local d = n % 36
    digits = string.sub(base36_digits, d + 1, d + 1) .. digits
    n = (n - d) / 36
  until n == 0
  return state .. code .. digits .. '|' .. reference .. '|' .. err
end

local function record_unpack(packed)
  local state, code, digits, reference, err = string.match(packed, '^(.)(.)([^|]*)|([^|]*)|(.*)$')
  local form = record_form_names[code] or record_form_names[({ w = 't', W = 'T' })[code] or '']
  if code == 'w' or code == 'W' or code == '_' then reference = 'wamid.' .. reference end
  local value = state .. '|' .. tonumber(digits, 36) .. '|' .. reference .. '|' .. err
  if form then value = value .. '|' .. form end
  return value
end

-- Gate keys whose record record_store moved into a bucket during this call; record_flush deletes them.
local record_moved = {}

-- The record of a delivery key, from wherever it lives, and the bucket it lives in (nil: the gate key).
local function record_load(announcement, key)
  if not record_moved[key] then
    local value = redis.call('GET', key)
    if value then return value, nil end
  end
  local bucket = record_bucket(announcement, record_employee(key))
  if not bucket then return nil, nil end
  local packed = redis.call('HGET', bucket, record_employee(key))
  if not packed then return nil, nil end
  return record_unpack(packed), bucket
end

-- Replaces the record of announcement's delivery key where record_load found it (bucket, or nil for the gate key).
-- A settled record in a gate key moves into its bucket once the announcement has buckets: the claim itself (state c)
-- stays in its gate key, which release-delivery.lua may still delete. A bucket lives as long as the longest-lived
-- record in it, plus 1 % so that it is extended once in a while rather than at every record. A script that stores
-- must end with record_flush().
local function record_store(announcement, key, bucket, value)
  local moving = false
  if not bucket and string.sub(value, 1, 1) ~= 'c' then
    bucket = record_bucket(announcement, record_employee(key))
    moving = bucket ~= nil
  end
  if not bucket then
    redis.call('SET', key, value, 'KEEPTTL')
    return
  end
  redis.call('HSET', bucket, record_employee(key), record_pack(value))
  if moving then
    local ttl = redis.call('PTTL', key)
    if ttl > 0 and redis.call('PTTL', bucket) < ttl then redis.call('PEXPIRE', bucket, ttl + math.floor(ttl / 100)) end
    record_moved[key] = true
  end
end

-- Deletes the gate keys whose records moved, in one command.
local function record_flush()
  local keys = {}
  for key in pairs(record_moved) do keys[#keys + 1] = key end
  if #keys > 0 then redis.call('DEL', unpack(keys)) end
end

