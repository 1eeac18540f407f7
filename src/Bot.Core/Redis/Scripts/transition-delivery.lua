-- Moves deliveries of one announcement to later states and moves their counts between the announcement's counters,
-- atomically: a batch of outcomes (a fan-out's group commit, a webhook POST's statuses) is one call, one write per
-- delivery that moves (an HSET into its bucket, or a SET while it has none), one DEL of the gate keys whose records
-- moved, and one HINCRBY per counter that changed.
-- A state never goes backwards: WhatsApp does not promise status order ('read' may arrive before 'delivered'),
-- and a late or redelivered status must change nothing.
-- Works on a record in its gate key or folded (delivery-records.lua, prepended): statuses come for up to 7 days.
-- KEYS[1] announcement hash, KEYS[1 + i] delivery key i
-- ARGV[2i - 1] new value of delivery i (its first character is the state; a value without the fifth field, the form,
-- keeps the current one: a status webhook does not know whether text or a template went),
-- ARGV[2i] the value the caller expects ('' = any)
-- Each move is also one event in the announcement's outbox while its employer has an endpoint (outbox-events.lua).
-- Returns one number per delivery: 1 when moved, 0 when not allowed or the value changed meanwhile.
-- c claimed, u unknown, s sent, d delivered, r read, f failed, k skipped
local allowed = {
  c = { u = true, s = true, d = true, r = true, f = true },
  u = { s = true, d = true, r = true, f = true },
  s = { d = true, r = true, f = true },
  d = { r = true },
}
local counters = { u = 'unknown', s = 'sent', d = 'delivered', r = 'read', f = 'failed', k = 'skipped' }
-- The event each state reached here sends to the employer's endpoint (outbox-events.lua, prepended).
local events = { u = 'delivery.unknown', s = 'delivery.sent', d = 'delivery.delivered', r = 'delivery.read', f = 'delivery.failed' }
local function field(value, n)
  local i = 1
  for part in string.gmatch(value .. '|', '([^|]*)|') do
    if i == n then return part end
    i = i + 1
  end
  return ''
end

local function move(key, value, expected)
  local current, bucket = record_load(KEYS[1], key)
  if not current then return nil end
  if expected ~= '' and current ~= expected then return nil end
  local from = string.sub(current, 1, 1)
  local to = string.sub(value, 1, 1)
  if not (allowed[from] and allowed[from][to]) then return nil end
  -- A status about another message of this delivery is not about this one: once a message id is recorded, only its
  -- statuses count; and the claim of a template re-send names the text it replaces (in its error field), whose late
  -- statuses must not settle the re-send before its own answer.
  local incoming = field(value, 3)
  if incoming ~= '' then
    if from ~= 'c' and field(current, 3) ~= '' and field(current, 3) ~= incoming then return nil end
    if from == 'c' and field(current, 4) == incoming then return nil end
  end
  local form = string.match(current, '^[^|]*|[^|]*|[^|]*|[^|]*|(.*)$')
  if form and not string.match(value, '^[^|]*|[^|]*|[^|]*|[^|]*|') then value = value .. '|' .. form end
  record_store(KEYS[1], key, bucket, value)
  if events[to] then
    outbox_emit(KEYS[1], events[to], field(value, 2), record_employee(key), field(value, 3), field(value, 4))
  end
  return from, to
end

local deltas, moved = {}, {}
for i = 2, #KEYS do
  local from, to = move(KEYS[i], ARGV[2 * i - 3], ARGV[2 * i - 2])
  moved[i - 1] = from and 1 or 0
  if from then
    if counters[from] then deltas[counters[from]] = (deltas[counters[from]] or 0) - 1 end
    deltas[counters[to]] = (deltas[counters[to]] or 0) + 1
  end
end
for counter, delta in pairs(deltas) do
  if delta ~= 0 then redis.call('HINCRBY', KEYS[1], counter, delta) end
end
record_flush()
return moved
