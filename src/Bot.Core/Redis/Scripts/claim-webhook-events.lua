-- Claims an employer's events that are due: each one's score becomes its claim's expiry, in the same step as the read,
-- so two hosts never POST the same attempt; a host that dies leaves the event due again when its claim runs out.
-- KEYS[1] employer's due zset, KEYS[2] employer's events hash
-- ARGV[1] now (unix ms), ARGV[2] claim expiry (unix ms), ARGV[3] at most how many
-- Returns a flat list: event id, event JSON, …
local ids = redis.call('ZRANGE', KEYS[1], '-inf', ARGV[1], 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(ids) do
  local event = redis.call('HGET', KEYS[2], id)
  if event then
    redis.call('ZADD', KEYS[1], ARGV[2], id)
    out[#out + 1] = id
    out[#out + 1] = event
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return out
