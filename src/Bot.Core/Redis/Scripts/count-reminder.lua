-- Counts a reminder WhatsApp accepted, for the employee and for the announcement, in one step.
-- KEYS[1] announcement hash, KEYS[2] its reminders hash; ARGV[1] employee id
redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
return redis.call('HINCRBY', KEYS[1], 'reminded', 1)
