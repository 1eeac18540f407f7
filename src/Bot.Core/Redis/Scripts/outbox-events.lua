-- Prepended to the scripts that change a delivery's or an announcement's state (LuaScripts.WithEvents), so the event an
-- employer hears about is written in the same atomic step as the change that causes it: no crash can leave one without
-- the other.
-- Where the events go: the outbox of the announcement, ann:{id}:events, a STREAM built from KEYS[1] (the announcement
-- hash) like the record buckets, so it shares the announcement's hash slot. A per-employer stream would sit in another
-- slot, and Redis Cluster refuses a script whose keys span slots; the webhook worker finds an employer's outboxes through
-- its index (WebhookKeys.Outboxes), written when the announcement is flagged.
-- Whether to write at all: the announcement hash's 'events' field, set while its employer has a webhook endpoint
-- (WebhookStore), so an announcement of an employer without one costs one HGET per call and nothing more.
-- Capped with MAXLEN ~: the worker deletes entries once it has taken them, so the cap only bites when no worker ran for
-- a long time; then the oldest events go rather than memory without bound.
local outbox_stream_cap = 100000
local outbox_enabled = nil

local function outbox_on(announcement)
  if outbox_enabled == nil then outbox_enabled = redis.call('HGET', announcement, 'events') == '1' end
  return outbox_enabled
end

-- Appends one event. Its id is the announcement id and a per-announcement sequence number (HINCRBY in the same step), so
-- it is unique, and the worker sends the same id on every retry.
local function outbox_emit(announcement, type, at, employee, message, err)
  if not outbox_on(announcement) then return end
  local id = string.match(announcement, 'ann:{([^}]*)}')
  local seq = redis.call('HINCRBY', announcement, 'eventSeq', 1)
  redis.call('XADD', announcement .. ':events', 'MAXLEN', '~', outbox_stream_cap, '*',
    'id', 'evt_' .. id .. '_' .. seq, 'type', type, 'announcementId', id, 'employeeId', employee or '',
    'at', at, 'messageId', message or '', 'error', err or '')
end
