-- The status of many employees of one employer in one call, for building an "all employees" audience: an HGET
-- per employee from the client is a command (and a reply) per employee, 100,000 for a 100k company, which made
-- building the audience the largest fixed cost of a fan-out. Read-only; the keys share the employer's hash slot.
-- KEYS: employee hashes. Returns each one's status, '' where the employee does not exist.
local statuses = {}
for i, key in ipairs(KEYS) do
  statuses[i] = redis.call('HGET', key, 'status') or ''
end
return statuses
