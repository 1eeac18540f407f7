-- Counts a reminder WhatsApp accepted, for the employee and for the announcement, in one step. Reminders go after
-- the announcement completed (its keys count down, move-announcement.lua): a hash created now gets its remaining
-- lifetime.
-- KEYS[1] announcement hash, KEYS[2] its reminders hash; ARGV[1] employee id
redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
return redis.call('HINCRBY', KEYS[1], 'reminded', 1)
