-- Queues the reply to an inbound message once: its record is created with the stream entry, or nothing is.
if not redis.call('SET', @record, 'queued', 'NX', 'EX', @ttl) then return 0 end
redis.call('XADD', @stream, '*', 'message', @message, 'sender', @sender, 'to', @to, 'body', @body)
return 1
