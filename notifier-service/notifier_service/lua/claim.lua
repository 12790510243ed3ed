-- Claim up to n due notifications: queued → sending, into the processing set with a lease.
-- ARGV: prefix, now, lease_until, n, claim_token. Returns {{id, {field, value, ...}}, ...}.
local p, now, lease, n, token = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local ids = redis.call('ZRANGEBYSCORE', p .. 'due', '-inf', now, 'LIMIT', 0, n)
local out = {}
for _, id in ipairs(ids) do
  redis.call('ZREM', p .. 'due', id)
  local key = p .. 'n:' .. id
  if redis.call('HGET', key, 'status') == 'queued' then
    redis.call('HINCRBY', key, 'attempts', 1)
    redis.call('HSET', key, 'status', 'sending', 'phase', 'envelope', 'claim', token, 'claimed_at', now)
    local created = redis.call('HGET', key, 'created_at')
    redis.call('ZREM', p .. 'status:queued', id)
    redis.call('ZADD', p .. 'status:sending', created, id)
    redis.call('ZADD', p .. 'processing', lease, id)
    local pending = p .. 'incident:' .. redis.call('HGET', key, 'incident_id') .. ':pending'
    if redis.call('GET', pending) == id then redis.call('DEL', pending) end
    table.insert(out, {id, redis.call('HGETALL', key)})
  end
end
return out
