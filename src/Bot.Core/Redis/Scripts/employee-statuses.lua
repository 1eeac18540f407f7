-- The status of many employees of one employer in one call, for building an audience: an HGET per employee from
-- the client is a command (and a reply) per employee, 100,000 for a 100k company, which made building the
-- audience the largest fixed cost of a fan-out. Read-only; the keys share the employer's hash slot.
-- With an audience filter (AudienceFilter in C#: AND across departments, locations and tags, OR within each),
-- an employee that does not match answers '' as if it did not exist: only the matching ids cross the wire.
-- KEYS: employee hashes.
-- ARGV (optional): #departments, departments..., #locations, locations..., #tags, tags... (a count of 0 = no filter)
-- Returns each one's status, '' where the employee does not exist or does not match.
local function list(at)
  local n = tonumber(ARGV[at] or '0')
  if n == 0 then return nil, at + 1 end
  local set = {}
  for i = at + 1, at + n do set[ARGV[i]] = true end
  return set, at + n + 1
end
local departments, at = list(1)
local locations
locations, at = list(at)
local tags = list(at)

local statuses = {}
if not (departments or locations or tags) then
  -- "All employees": the status alone, as before audiences existed (the 100k fan-out's fixed cost).
  for i, key in ipairs(KEYS) do
    statuses[i] = redis.call('HGET', key, 'status') or ''
  end
  return statuses
end
for i, key in ipairs(KEYS) do
  local e = redis.call('HMGET', key, 'status', 'department', 'location', 'tags')
  local ok = e[1] ~= false
  if ok and departments then ok = e[2] and departments[e[2]] or false end
  if ok and locations then ok = e[3] and locations[e[3]] or false end
  if ok and tags then
    local any = false
    -- Tags are stored ';'-joined; no tag may contain ';' (EmployeeAttributeRules.TagSeparator).
    for tag in string.gmatch(e[4] or '', '[^;]+') do
      if tags[tag] then any = true break end
    end
    ok = any
  end
  statuses[i] = ok and e[1] or ''
end
return statuses
