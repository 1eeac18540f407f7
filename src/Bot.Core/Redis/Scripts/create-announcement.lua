-- Creates an announcement with its explicit audience, unless one with this id exists. Ids of requests
-- sent with an Idempotency-Key are derived from the key, so a repeated request lands here and gets the
-- stored request hash back instead of a second announcement.
-- KEYS[1] announcement hash, KEYS[2] targets list
-- ARGV[1] request hash, ARGV[2] number of field/value pairs that follow, then the pairs, then the explicit
-- employee ids
-- Returns false when created, else {request hash, status, sequence, sendAt, sender} of the stored one.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.call('HMGET', KEYS[1], 'requestHash', 'status', 'sequence', 'sendAt', 'sender')
end
local count = tonumber(ARGV[2])
redis.call('HSET', KEYS[1], 'requestHash', ARGV[1], unpack(ARGV, 3, 2 + 2 * count))
local i = 3 + 2 * count
-- unpack() is bounded by Lua's stack, so push large audiences in slices.
while i <= #ARGV do
  local last = math.min(i + 999, #ARGV)
  redis.call('RPUSH', KEYS[2], unpack(ARGV, i, last))
  i = last + 1
end
return false
