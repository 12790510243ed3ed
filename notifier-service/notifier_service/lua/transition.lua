-- Move one notification to a new status, keeping the indexes, queue and lease set in step.
-- ARGV: prefix, id, claim_token ('' = any), required_status ('' = any), new_status,
--       fields (JSON object of strings), due (for 'queued'), expire_seconds ('' = keep)
-- Returns the previous status, or false when the notification is missing or the check failed.
local p, id, token, required, new = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local key = p .. 'n:' .. id
local cur = redis.call('HGET', key, 'status')
if not cur or cur == 'coalesced' then return false end
if token ~= '' and redis.call('HGET', key, 'claim') ~= token then return false end
if required ~= '' and cur ~= required then return false end
if cur == 'sent' then return cur end
for k, v in pairs(cjson.decode(ARGV[6])) do redis.call('HSET', key, k, v) end
redis.call('HSET', key, 'status', new)
local created = redis.call('HGET', key, 'created_at')
redis.call('ZREM', p .. 'status:' .. cur, id)
redis.call('ZADD', p .. 'status:' .. new, created, id)
redis.call('ZREM', p .. 'processing', id)
if new == 'queued' then
  redis.call('HSET', key, 'next_attempt_at', ARGV[7], 'phase', '')
  redis.call('ZADD', p .. 'due', ARGV[7], id)
  redis.call('PERSIST', key)
  redis.call('RPUSH', p .. 'wake', '1')
  redis.call('LTRIM', p .. 'wake', -64, -1)
else
  redis.call('ZREM', p .. 'due', id)
end
if ARGV[8] ~= '' then redis.call('EXPIRE', key, ARGV[8]) end
return cur
