-- Compare-and-set of an announcement's status: cancel and the dispatcher's claim race on the same
-- announcement, and exactly one of them must win.
-- KEYS[1] announcement hash
-- ARGV[1] expected status, ARGV[2] new status, ARGV[3] timestamp field to set, ARGV[4] now (ms), then
-- field/value pairs set in the same step (a pause's reason and resume time, cleared again on resume)
-- Returns the status before the call (false when the announcement does not exist).
local status = redis.call('HGET', KEYS[1], 'status')
if status == ARGV[1] then
  redis.call('HSET', KEYS[1], 'status', ARGV[2], ARGV[3], ARGV[4], unpack(ARGV, 5))
end
return status
