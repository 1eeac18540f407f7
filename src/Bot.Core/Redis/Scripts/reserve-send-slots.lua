-- Reserves the next send slots of one WhatsApp number for one process, so that every process sending from the
-- number (dispatchers, webhook hosts) shares its MessagesPerSecond. Slots are counted on Redis's clock, the one
-- clock all processes see; the caller converts the answer to its own clock.
-- KEYS[1] the number's next free slot (microseconds, Redis TIME)
-- ARGV[1] microseconds between two sends, ARGV[2] slots wanted
-- Returns { Redis's now, the first reserved slot } in microseconds (the other slots follow one interval apart).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local free = tonumber(redis.call('GET', KEYS[1]) or '0')
local first = math.max(now, free)
local after = first + tonumber(ARGV[1]) * tonumber(ARGV[2])
redis.call('SET', KEYS[1], string.format('%.0f', after), 'PX', math.floor((after - now) / 1000) + 1000)
return { string.format('%.0f', now), string.format('%.0f', first) }
