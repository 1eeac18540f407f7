-- Queues a created announcement and clears its pending-creation mark in one step (both keys are in the
-- queue's slot): the creation repair must never find a queued announcement still marked, nor a marked one
-- already gone from the mark without being queued.
-- KEYS[1] due ZSET, KEYS[2] pending-creations ZSET
-- ARGV[1] announcement id, ARGV[2] due time (ms)
-- NX: a repeated schedule (an idempotent replay, a repair) never moves an announcement.
redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
