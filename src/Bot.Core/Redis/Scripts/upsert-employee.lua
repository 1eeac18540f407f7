-- Creates or updates an employee and keeps the phone index unique in the same step: two concurrent PUTs
-- must never leave one phone pointing at two employees, nor an old phone pointing at anyone.
-- KEYS[1] employee hash, KEYS[2] phone index hash, KEYS[3] employee id ZSET
-- ARGV[1] employee id, ARGV[2] phone (E.164), ARGV[3] name, ARGV[4] now (ms),
-- ARGV[5] 'relink' to change only the phone of an existing employee (WhatsApp JOIN; name and attributes kept),
-- else 'put': then ARGV[6..10] are the attributes (department, location, language, timeZone, tags ';'-joined),
-- '' = not set. A put replaces them all, as it replaces the name.
-- Returns {'created'|'unchanged'}, {'updated', previous phone, previous WhatsApp id} (for the caller to clean the
-- global indexes of a number the employee left), {'conflict', other employee id} or, for relink, {'missing'}.
local attributes = { 'department', 'location', 'language', 'timeZone', 'tags' }
local relink = ARGV[5] == 'relink'
local holder = redis.call('HGET', KEYS[2], ARGV[2])
if holder and holder ~= ARGV[1] then return { 'conflict', holder } end
local old = redis.call('HMGET', KEYS[1], 'phone', 'name', 'status', unpack(attributes))
local existed = old[3] and old[3] ~= 'removed'
local name = ARGV[3]
local same = true
if relink then
  -- A join code outlives nothing: an employee removed since it was issued is not brought back by it.
  if not existed then return { 'missing' } end
  name = old[2] or ''
else
  for i = 1, #attributes do
    if (old[3 + i] or '') ~= ARGV[5 + i] then same = false end
  end
end
if existed and old[1] == ARGV[2] and old[2] == name and same then return { 'unchanged' } end
local oldWaId = ''
if old[1] and old[1] ~= ARGV[2] then
  if redis.call('HGET', KEYS[2], old[1]) == ARGV[1] then redis.call('HDEL', KEYS[2], old[1]) end
  -- The WhatsApp id belonged to the old number.
  oldWaId = redis.call('HGET', KEYS[1], 'waId') or ''
  redis.call('HDEL', KEYS[1], 'waId')
end
-- An employee's own STOP outlives the employer's edits; a removed employee who is added again is active.
local status = 'active'
if old[3] == 'opted_out' then status = 'opted_out' end
redis.call('HSET', KEYS[1], 'phone', ARGV[2], 'name', name, 'status', status, 'updatedAt', ARGV[4])
if not relink then
  -- Unset attributes are not stored: most employees have few, and there may be 100,000 of them.
  for i = 1, #attributes do
    if ARGV[5 + i] == '' then
      redis.call('HDEL', KEYS[1], attributes[i])
    else
      redis.call('HSET', KEYS[1], attributes[i], ARGV[5 + i])
    end
  end
end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[3], 0, ARGV[1])
if existed then return { 'updated', old[1] or '', oldWaId } end
return { 'created' }
