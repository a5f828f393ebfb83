-- Register or refresh one socket's liveness (chatdesk.broker.liveness, docs/broker.md).
-- KEYS[1]  the key's sorted set: member = connection id, score = expiry (ms, Redis clock)
-- ARGV[1]  connection id
-- ARGV[2]  time to live in milliseconds
-- The Redis clock is used so that processes with skewed clocks agree on expiry. The set
-- itself expires with its longest-lived member, so a dead process leaves nothing behind.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIRE', KEYS[1], math.max(1, tonumber(last[2]) - now))
return 1
