-- The record of a request sent with an Idempotency-Key (other than an announcement's create, whose id is derived from
-- the key): the first request takes it before it acts, so a concurrent repeat cannot act too, and stores its answer
-- when done, so a later repeat gets that answer instead of acting again. Taken, it lives a minute (a request that died
-- half-way must not hold the key for days); answered, Api:IdempotencyRetention.
-- KEYS[1] the record (HASH: request, status, body)
-- ARGV[1] 'take' | 'answer' | 'release', ARGV[2] request hash, ARGV[3] ttl ms, ARGV[4] status, ARGV[5] body (answer only)
-- take: returns false when taken now, else {request hash, status ('' while the first is under way), body}.
-- answer: stores the answer of the request that took it (same request hash); returns 1, or 0 when it is not theirs.
-- release: gives back a key whose request did nothing (refused for now): the same request may come again and act.
if ARGV[1] == 'take' then
  if redis.call('HSETNX', KEYS[1], 'request', ARGV[2]) == 1 then
    redis.call('PEXPIRE', KEYS[1], ARGV[3])
    return false
  end
  local stored = redis.call('HMGET', KEYS[1], 'request', 'status', 'body')
  return { stored[1], stored[2] or '', stored[3] or '' }
end
if redis.call('HGET', KEYS[1], 'request') ~= ARGV[2] then return 0 end
if ARGV[1] == 'release' then
  if redis.call('HEXISTS', KEYS[1], 'status') == 1 then return 0 end
  return redis.call('DEL', KEYS[1])
end
redis.call('HSET', KEYS[1], 'status', ARGV[4], 'body', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
