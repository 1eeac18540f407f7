-- Moves a webhook body that failed every attempt to the dead-letter stream and completes its entry, in one step.
redis.call('XADD', @dead, '*', 'id', @id, 'body', @body)
redis.call('XACK', @stream, @group, @id)
return redis.call('XDEL', @stream, @id)
