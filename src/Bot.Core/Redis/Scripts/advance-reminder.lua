-- Compare-and-set of the reminder an announcement is on: a pass that lost its lease and finishes late must not
-- skip a reminder the new owner is on.
-- KEYS[1] announcement hash; ARGV[1] the reminder done, ARGV[2] the next, ARGV[3] when it is due (ms, or '')
if redis.call('HGET', KEYS[1], 'reminder') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'reminder', ARGV[2], 'reminderAt', ARGV[3])
return 1
