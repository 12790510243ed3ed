-- Record one change event, idempotent by id (agent_service/events/store.py).
-- KEYS: 1 hash id → event JSON, 2 zset id → at (epoch seconds)
-- ARGV: 1 id, 2 event JSON, 3 at, 4 oldest kept (epoch seconds), 5 cap, 6 key TTL seconds
-- Returns {1, json} when stored, {0, stored json} when the id was already there (nothing changed).
local stored = redis.call('HGET', KEYS[1], ARGV[1])
if stored then return {0, stored} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
-- Retention: older than the oldest kept, then the oldest beyond the cap.
local old = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[4], 'LIMIT', 0, 1000)
local over = redis.call('ZCARD', KEYS[2]) - #old - tonumber(ARGV[5])
if over > 0 then
  local first = redis.call('ZRANGE', KEYS[2], #old, #old + over - 1)
  for _, id in ipairs(first) do table.insert(old, id) end
end
if #old > 0 then
  redis.call('ZREM', KEYS[2], unpack(old))
  redis.call('HDEL', KEYS[1], unpack(old))
end
redis.call('EXPIRE', KEYS[1], ARGV[6])
redis.call('EXPIRE', KEYS[2], ARGV[6])
return {1, ARGV[2]}
