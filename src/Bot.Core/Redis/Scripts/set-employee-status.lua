-- Changes an employee's status ('removed' also frees the phone for another employee), atomically with
-- the phone index.
-- KEYS[1] employee hash, KEYS[2] phone index hash
-- ARGV[1] employee id, ARGV[2] new status, ARGV[3] now (ms), ARGV[4] (optional) when the employee asked for it
-- (WhatsApp's message timestamp, ms): STOP and START may be worked off by different hosts in either order, so a
-- request older than the last one applied changes nothing.
-- Returns the previous status, or false when the employee does not exist or is removed.
local old = redis.call('HMGET', KEYS[1], 'status', 'phone', 'statusAt')
if not old[1] or old[1] == 'removed' then return false end
if ARGV[4] and ARGV[4] ~= '' then
  if tonumber(ARGV[4]) < tonumber(old[3] or '0') then return old[1] end
  redis.call('HSET', KEYS[1], 'statusAt', ARGV[4])
end
if ARGV[2] == 'removed' and old[2] and redis.call('HGET', KEYS[2], old[2]) == ARGV[1] then
  redis.call('HDEL', KEYS[2], old[2])
end
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'updatedAt', ARGV[3])
return old[1]
