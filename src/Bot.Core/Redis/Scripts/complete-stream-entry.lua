-- XACK and XDEL together: an acknowledged entry never lingers, a deleted one is never left pending.
redis.call('XACK', @stream, @group, @id)
return redis.call('XDEL', @stream, @id)
