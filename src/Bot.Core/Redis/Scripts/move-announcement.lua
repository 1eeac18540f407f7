-- Compare-and-set of an announcement's status (AnnouncementLifecycle is the table of allowed moves): cancel and
-- the dispatcher's claim, or two passes, race on the same announcement, and exactly one of them must win.
-- The move that ends an announcement (completed, cancelled, expired) also starts the countdown of its keys
-- (Announcements:Retention) in the same step, so no end is ever left without a lifetime; a retry that brings it back
-- to dispatching stops the countdown (a pass must never find its targets gone).
-- KEYS[1] announcement hash, KEYS[2..] the keys that live and die with it (targets, acknowledgements, reminders, …)
-- ARGV[1] expected status, ARGV[2] new status, ARGV[3] timestamp field to set, ARGV[4] now (ms),
-- ARGV[5] lifetime: ms left after this move when it ends the announcement, -1 when it brings it back, 0 no change,
-- ARGV[6] n = how many fields to clear, ARGV[7..6+n] those fields, then field/value pairs set with the status
-- Returns the status before the call (false when the announcement does not exist).
-- The statuses employers hear about (outbox-events.lua, prepended), in the same step as the move; a paused event carries
-- the pause's reason as its error.
local events = { completed = 'announcement.completed', paused = 'announcement.paused', expired = 'announcement.expired' }
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= ARGV[1] then return status end
local cleared = tonumber(ARGV[6])
if cleared > 0 then redis.call('HDEL', KEYS[1], unpack(ARGV, 7, 6 + cleared)) end
redis.call('HSET', KEYS[1], 'status', ARGV[2], ARGV[3], ARGV[4], unpack(ARGV, 7 + cleared))
local lifetime = tonumber(ARGV[5])
for i = 1, #KEYS do
  if lifetime > 0 then
    redis.call('PEXPIRE', KEYS[i], lifetime)
  elseif lifetime < 0 then
    redis.call('PERSIST', KEYS[i])
  end
end
local event = events[ARGV[2]]
if event and outbox_on(KEYS[1]) then outbox_emit(KEYS[1], event, ARGV[4], '', '', redis.call('HGET', KEYS[1], 'reason') or '') end
return status
