-- Notifications whose claim lease ran out (their worker died): before DATA they were surely
-- not accepted and go back to the queue; after DATA the server may have accepted them, so
-- they are failed (never twice) unless resend_uncertain is '1' (never lost).
-- ARGV: prefix, now, resend_uncertain, uncertain_error, retention. Returns {id, outcome, ...}.
local p, now, resend, err, retention = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local ids = redis.call('ZRANGEBYSCORE', p .. 'processing', '-inf', now, 'LIMIT', 0, 100)
local out = {}
for _, id in ipairs(ids) do
  redis.call('ZREM', p .. 'processing', id)
  local key = p .. 'n:' .. id
  if redis.call('HGET', key, 'status') == 'sending' then
    local created = redis.call('HGET', key, 'created_at')
    redis.call('ZREM', p .. 'status:sending', id)
    if redis.call('HGET', key, 'phase') == 'data' and resend ~= '1' then
      redis.call('HSET', key, 'status', 'failed', 'last_error', err, 'phase', '')
      redis.call('ZADD', p .. 'status:failed', created, id)
      redis.call('EXPIRE', key, retention)
      table.insert(out, id); table.insert(out, 'failed')
    else
      redis.call('HSET', key, 'status', 'queued', 'next_attempt_at', now, 'phase', '')
      redis.call('ZADD', p .. 'status:queued', created, id)
      redis.call('ZADD', p .. 'due', now, id)
      table.insert(out, id); table.insert(out, 'requeued')
    end
  end
end
return out
