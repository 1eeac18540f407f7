-- The outcome and the entry's completion in one step: a settled reply never stays in the outbox. A record that says
-- sent stays sent: a replica that took the entry over from a slow sender may settle it 'unknown' after, or before,
-- the sender learnt WhatsApp accepted it.
local current = redis.call('GET', @record)
if not (current and string.sub(current, 1, 5) == 'sent|') then redis.call('SET', @record, @outcome, 'KEEPTTL') end
redis.call('XACK', @stream, @group, @id)
return redis.call('XDEL', @stream, @id)
