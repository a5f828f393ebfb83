-- Count the unexpired connections of each key (chatdesk.broker.liveness, docs/broker.md).
-- KEYS     the keys' sorted sets (see liveness_connect.lua)
-- Returns  one count per key, in order. Read-only: expired members are pruned by the
--          next refresh or vanish with their set's TTL.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local counts = {}
for i, key in ipairs(KEYS) do
  counts[i] = redis.call('ZCOUNT', key, '(' .. now, '+inf')
end
return counts
