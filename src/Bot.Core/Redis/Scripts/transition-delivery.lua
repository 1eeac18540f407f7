-- Moves a delivery to a later state and moves its count between the announcement's counters, atomically.
-- A state never goes backwards: WhatsApp does not promise status order ('read' may arrive before
-- 'delivered'), and a late or redelivered status must change nothing.
-- KEYS[1] delivery key, KEYS[2] announcement hash
-- ARGV[1] new value (its first character is the state; a value without the fifth field, the form, keeps the
-- current one: a status webhook does not know whether text or a template went), ARGV[2] value the caller expects ('' = any)
-- Returns 0 when not allowed or the value changed meanwhile; when applied, the record's remaining TTL in ms
-- (at least 1; -1 if it has none), so the caller can give the wamid index the same lifetime without a PTTL
-- round trip of its own.
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
if ARGV[2] ~= '' and current ~= ARGV[2] then return 0 end
local from = string.sub(current, 1, 1)
local to = string.sub(ARGV[1], 1, 1)
-- c claimed, u unknown, s sent, d delivered, r read, f failed, k skipped
local allowed = {
  c = { u = true, s = true, d = true, r = true, f = true },
  u = { s = true, d = true, r = true, f = true },
  s = { d = true, r = true, f = true },
  d = { r = true },
}
if not (allowed[from] and allowed[from][to]) then return 0 end
-- A status about another message of this delivery is not about this one: once a message id is recorded, only its
-- statuses count; and the claim of a template re-send names the text it replaces (in its error field), whose late
-- statuses must not settle the re-send before its own answer.
local function field(value, n)
  local i = 1
  for part in string.gmatch(value .. '|', '([^|]*)|') do
    if i == n then return part end
    i = i + 1
  end
  return ''
end
local incoming = field(ARGV[1], 3)
if incoming ~= '' then
  if from ~= 'c' and field(current, 3) ~= '' and field(current, 3) ~= incoming then return 0 end
  if from == 'c' and field(current, 4) == incoming then return 0 end
end
local counters = { u = 'unknown', s = 'sent', d = 'delivered', r = 'read', f = 'failed', k = 'skipped' }
local value = ARGV[1]
local form = string.match(current, '^[^|]*|[^|]*|[^|]*|[^|]*|(.*)$')
if form and not string.match(value, '^[^|]*|[^|]*|[^|]*|[^|]*|') then value = value .. '|' .. form end
redis.call('SET', KEYS[1], value, 'KEEPTTL')
if counters[from] then redis.call('HINCRBY', KEYS[2], counters[from], -1) end
redis.call('HINCRBY', KEYS[2], counters[to], 1)
local ttl = redis.call('PTTL', KEYS[1])
if ttl == 0 then return 1 end
return ttl
