-- The outcome and the entry's completion in one step: a settled reply never stays in the outbox.
redis.call('SET', @record, @outcome, 'KEEPTTL')
redis.call('XACK', @stream, @group, @id)
return redis.call('XDEL', @stream, @id)
