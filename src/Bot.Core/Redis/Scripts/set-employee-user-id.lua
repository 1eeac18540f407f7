-- Keeps an employee's WhatsApp user ids (BSUIDs, one per portfolio: field 'bsuid:<portfolio>') and the employer's
-- index of them in step: a BSUID names one WhatsApp account, so it points at one employee of the employer, and a
-- replaced or forgotten one leaves nothing behind in the index.
-- KEYS[1] employee hash, KEYS[2] the employer's BSUID index hash
-- ARGV[1] employee id, ARGV[2] portfolio ('' with ARGV[3] '' = every portfolio), ARGV[3] BSUID ('' = forget),
-- ARGV[4] username ('' = keep the stored one)
-- Learn returns {'learned', old BSUID or '', previous holder or ''}, {'unchanged'} or {'missing'} (no such employee,
-- or removed); forget returns {'forgot', portfolio1, bsuid1, portfolio2, bsuid2, ...} for the caller to clean the
-- global index.
local function unindex(portfolio, bsuid)
  local entry = portfolio .. '/' .. bsuid
  if redis.call('HGET', KEYS[2], entry) == ARGV[1] then redis.call('HDEL', KEYS[2], entry) end
end

if ARGV[3] == '' then
  local forgotten = { 'forgot' }
  local fields = redis.call('HGETALL', KEYS[1])
  for i = 1, #fields, 2 do
    local portfolio = string.match(fields[i], '^bsuid:(.+)$')
    if portfolio and (ARGV[2] == '' or ARGV[2] == portfolio) then
      unindex(portfolio, fields[i + 1])
      redis.call('HDEL', KEYS[1], fields[i])
      forgotten[#forgotten + 1] = portfolio
      forgotten[#forgotten + 1] = fields[i + 1]
    end
  end
  return forgotten
end

local status = redis.call('HGET', KEYS[1], 'status')
if not status or status == 'removed' then return { 'missing' } end
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'username', ARGV[4]) end
local field = 'bsuid:' .. ARGV[2]
local old = redis.call('HGET', KEYS[1], field)
if old == ARGV[3] then return { 'unchanged' } end
if old then unindex(ARGV[2], old) end
local entry = ARGV[2] .. '/' .. ARGV[3]
local holder = redis.call('HGET', KEYS[2], entry)
if holder and holder ~= ARGV[1] then
  -- The newest report wins: the account now belongs to this employee (e.g. a number moved between employees).
  -- The holder's key differs from KEYS[1] only in the employee id, so it shares the employer's hash slot.
  local holderKey = string.sub(KEYS[1], 1, #KEYS[1] - #ARGV[1]) .. holder
  if redis.call('HGET', holderKey, field) == ARGV[3] then redis.call('HDEL', holderKey, field) end
else
  holder = ''
end
redis.call('HSET', KEYS[2], entry, ARGV[1])
redis.call('HSET', KEYS[1], field, ARGV[3])
return { 'learned', old or '', holder }
