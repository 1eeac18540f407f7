-- One operator or employer write and its audit entry, together: a change nobody can trace must not exist, and an
-- audit entry for a change that did not happen must not either. A change to the tenants (any hash operation) also
-- bumps the version every host polls, so each picks the change up within its refresh interval, pub/sub or not.
-- KEYS[1] version STRING, KEYS[2] audit STREAM (all), KEYS[3] the employer's audit STREAM (or KEYS[2] again),
-- KEYS[4..] the hashes the operations name by index (1 = KEYS[4])
-- ARGV[1] audit retention: oldest stream id kept (ms), ARGV[2] at (ms), ARGV[3] actor, ARGV[4] action, ARGV[5] target,
-- ARGV[6] employer id ('' for none), then 4 per operation: hash index, 'set' | 'del', field, value
-- Returns 1 when the first operation created its field, else 0.
local created = 0
local ops = 0
for i = 7, #ARGV, 4 do
  local key = KEYS[3 + tonumber(ARGV[i])]
  local n
  if ARGV[i + 1] == 'set' then
    n = redis.call('HSET', key, ARGV[i + 2], ARGV[i + 3])
  else
    n = redis.call('HDEL', key, ARGV[i + 2])
  end
  if ops == 0 then created = n end
  ops = ops + 1
end
if ops > 0 then redis.call('INCR', KEYS[1]) end
local entry = {'at', ARGV[2], 'actor', ARGV[3], 'action', ARGV[4], 'target', ARGV[5], 'employerId', ARGV[6]}
redis.call('XADD', KEYS[2], 'MINID', '~', ARGV[1], '*', unpack(entry))
if ARGV[6] ~= '' then redis.call('XADD', KEYS[3], 'MINID', '~', ARGV[1], '*', unpack(entry)) end
return created
