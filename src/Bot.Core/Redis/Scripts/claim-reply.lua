-- Moves a queued reply to sending; 0 when another worker took it or it was settled.
if redis.call('GET', @record) ~= 'queued' then return 0 end
redis.call('SET', @record, 'sending', 'KEEPTTL')
return 1
