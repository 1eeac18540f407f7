-- Takes the gate of reminder n to one employee right before its send: SET NX, so that reminder goes at most once to
-- them whatever dispatchers run, race or restart. The acknowledgement is checked in the same step: a tap recorded
-- before the gate is taken means no reminder, with no window between "not acknowledged" and the claim.
-- KEYS[1] gate key, KEYS[2] acknowledgements hash
-- ARGV[1] employee id, ARGV[2] owner (the dispatcher pass), ARGV[3] time to live (ms): the delivery retention
-- Returns 1 when taken, 0 when it was taken before, -1 when the employee has acknowledged.
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return -1 end
if redis.call('SET', KEYS[1], ARGV[2], 'NX', 'PX', ARGV[3]) then return 1 end
return 0
