-- WhatsApp's messaging limit: a portfolio's business-initiated messages may reach at most N unique people in any
-- moving window. Counting and adding must be one step, or two dispatchers could both take the last place.
-- KEYS[1] ZSET of recipients reached, score = when (ms)
-- ARGV[1] recipient, ARGV[2] now (ms), ARGV[3] window (ms), ARGV[4] limit
-- Returns 0 when the message may go (the recipient is counted, or already was within the window), else the time (ms)
-- the oldest recipient leaves the window and a place frees.
local now, window, limit = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) or redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[1])
  redis.call('PEXPIRE', KEYS[1], window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tonumber(oldest[2]) + window
