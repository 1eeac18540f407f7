-- Sends failed events again: those given up since ARGV[1] move from failed to due now with a fresh retry budget, in one
-- step so an event is never both failed and due (and listed twice).
-- KEYS[1] failed zset, KEYS[2] due zset, KEYS[3] events hash
-- ARGV[1] since (unix ms), ARGV[2] now (unix ms)
-- Returns how many were replayed.
local ids = redis.call('ZRANGE', KEYS[1], ARGV[1], '+inf', 'BYSCORE')
for _, id in ipairs(ids) do
  local event = redis.call('HGET', KEYS[3], id)
  redis.call('ZREM', KEYS[1], id)
  if event then
    local decoded = cjson.decode(event)
    decoded['attempts'] = 0
    decoded['firstTriedAt'] = cjson.null
    redis.call('HSET', KEYS[3], id, cjson.encode(decoded))
    redis.call('ZADD', KEYS[2], ARGV[2], id)
  end
end
return #ids
