-- Compare-and-delete of a reminder gate: a gate another pass took since (after this one's expired) is theirs.
-- KEYS[1] the gate, ARGV[1] the pass that took it
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
