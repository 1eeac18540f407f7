-- Moves a webhook body that failed every attempt to the dead-letter stream and completes its entry, in one step.
-- Exact MAXLEN, not '~': entries arrive rarely, so trimming one at a time costs nothing, and the cap is what it says.
redis.call('XADD', @dead, 'MAXLEN', @max, '*', 'id', @id, 'body', @body)
redis.call('XACK', @stream, @group, @id)
return redis.call('XDEL', @stream, @id)
