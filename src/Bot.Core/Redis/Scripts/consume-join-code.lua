-- Takes a join code for one inbound message (single use; the same message may take it again).
-- A code's value is "employerId:employeeId", and "used|messageId|employerId:employeeId" once taken.
local value = redis.call('GET', @code)
if not value then return false end
if string.sub(value, 1, 5) == 'used|' then
  local bar = string.find(value, '|', 6, true)
  if string.sub(value, 6, bar - 1) == @message then return string.sub(value, bar + 1) end
  return false
end
redis.call('SET', @code, 'used|' .. @message .. '|' .. value, 'KEEPTTL')
return value
