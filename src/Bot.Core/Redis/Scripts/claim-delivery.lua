-- The exactly-once gate: a delivery key is created with SET NX before any send, and only the caller that
-- created it may send. A skipped delivery is counted in the same step so counts can never drift.
-- KEYS[1] delivery key, KEYS[2] announcement hash
-- ARGV[1] value, ARGV[2] ttl seconds, ARGV[3] counter to increment when created ('' for none)
-- Returns nil when this caller created the key, else the existing value.
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then
  if ARGV[3] ~= '' then redis.call('HINCRBY', KEYS[2], ARGV[3], 1) end
  return false
end
return redis.call('GET', KEYS[1])
