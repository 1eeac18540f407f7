-- Gives a claimed delivery back (deletes the key) when its send is known not to have gone out, so a later
-- run can send it. Only the exact claim the caller made is deleted: never someone else's, never a result.
-- KEYS[1] delivery key; ARGV[1] the claim value the caller wrote
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
