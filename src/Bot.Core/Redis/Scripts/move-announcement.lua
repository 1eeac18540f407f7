-- Compare-and-set of an announcement's status (AnnouncementLifecycle is the table of allowed moves): cancel and
-- the dispatcher's claim, or two passes, race on the same announcement, and exactly one of them must win.
-- KEYS[1] announcement hash
-- ARGV[1] expected status, ARGV[2] new status, ARGV[3] timestamp field to set, ARGV[4] now (ms),
-- ARGV[5] n = how many fields to clear, ARGV[6..5+n] those fields, then field/value pairs set with the status
-- Returns the status before the call (false when the announcement does not exist).
-- The statuses employers hear about (outbox-events.lua, prepended), in the same step as the move; a paused event carries
-- the pause's reason as its error.
local events = { completed = 'announcement.completed', paused = 'announcement.paused', expired = 'announcement.expired' }
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= ARGV[1] then return status end
local cleared = tonumber(ARGV[5])
if cleared > 0 then redis.call('HDEL', KEYS[1], unpack(ARGV, 6, 5 + cleared)) end
redis.call('HSET', KEYS[1], 'status', ARGV[2], ARGV[3], ARGV[4], unpack(ARGV, 6 + cleared))
local event = events[ARGV[2]]
if event and outbox_on(KEYS[1]) then outbox_emit(KEYS[1], event, ARGV[4], '', '', redis.call('HGET', KEYS[1], 'reason') or '') end
return status
