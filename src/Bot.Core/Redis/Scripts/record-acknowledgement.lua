-- Records an employee's "Got it" tap. One step, so the checks and the write cannot be split by a concurrent tap
-- (the same webhook processed twice, or two taps): the first tap's time is kept and counted once. Only an
-- announcement of this employer that asks for acknowledgement counts a tap; that the employee is one of its targets
-- the caller checked before (a target has a delivery record). A tap after the announcement ended (its keys count
-- down, move-announcement.lua) may create the hash: it gets the announcement's remaining lifetime.
-- KEYS[1] announcement hash, KEYS[2] acknowledgements hash (employee id → unix ms)
-- ARGV[1] employer id, ARGV[2] employee id, ARGV[3] tap time (unix ms)
-- A recorded tap is also a delivery.acknowledged event in the outbox (outbox-events.lua, prepended).
-- Returns 1 when recorded, 0 when the employee had acknowledged already, -1 when the tap does not count.
local announcement = redis.call('HMGET', KEYS[1], 'employerId', 'ackRequired')
if announcement[1] ~= ARGV[1] or announcement[2] ~= '1' then return -1 end
if redis.call('HSETNX', KEYS[2], ARGV[2], ARGV[3]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[1], 'acknowledged', 1)
outbox_emit(KEYS[1], 'delivery.acknowledged', ARGV[3], ARGV[2], '', '')
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
return 1
