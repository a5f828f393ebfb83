-- Register or refresh many sockets' liveness at once (chatdesk.broker.liveness, docs/broker.md):
-- a process refreshes all its sockets on every heartbeat in one call per 1,000 sockets
-- instead of one round trip per socket. Per key, exactly what liveness_connect.lua does.
-- KEYS      the keys' sorted sets (see liveness_connect.lua); a key may repeat (several tabs)
-- ARGV[1]   time to live in milliseconds, the same for every connection
-- ARGV[i+1] the connection id registered under KEYS[i]
-- Returns   the number of connections registered.
if #ARGV ~= #KEYS + 1 then
  return redis.error_reply('liveness_connect_many: expected one connection id per key')
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expiry = now + tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  redis.call('ZADD', key, expiry, ARGV[i + 1])
  local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  redis.call('PEXPIRE', key, math.max(1, tonumber(last[2]) - now))
end
return #KEYS
