-- Create a notification atomically: idempotency, coalescing of updates, scheduling.
-- ARGV: prefix, id, idempotency_key ('' = none), now, coalesce_interval, retention,
--       root_message_id, own_message_id, payload (JSON: incident_id, event, severity, title,
--       summary, report_markdown, url, to[], links[], acknowledged_by, acknowledged_at),
--       deliver ('1', or '0' = routed away from this lane: kept as 'skipped', never sent)
-- Returns {id, created (1|0), coalesced_into ('' = not coalesced)}.
local p, id, idem = ARGV[1], ARGV[2], ARGV[3]
local now, interval, retention = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local root_mid, own_mid = ARGV[7], ARGV[8]
local d = cjson.decode(ARGV[9])
local deliver = ARGV[10] ~= '0'
local ack_by, ack_at = d.acknowledged_by or '', d.acknowledged_at or ''

if idem ~= '' then
  local existing = redis.call('GET', p .. 'idem:' .. idem)
  if existing then return {existing, 0, ''} end
end

local key = p .. 'n:' .. id
local inc = p .. 'incident:' .. d.incident_id .. ':'
local is_update = (d.event == 'updated' or d.event == 'report')

local function remember_key()
  if idem ~= '' then redis.call('SET', p .. 'idem:' .. idem, id, 'EX', retention) end
  redis.call('ZADD', p .. 'all', now, id)
end

local function base_fields()
  redis.call('HSET', key, 'id', id, 'created_at', ARGV[4], 'incident_id', d.incident_id,
    'event', d.event, 'severity', d.severity, 'title', d.title, 'summary', d.summary,
    'report_markdown', d.report_markdown, 'url', d.url, 'to', cjson.encode(d.to),
    'links', cjson.encode(d.links or {}), 'proposals', cjson.encode(d.proposals or {}), 'attempts', '0', 'idempotency_key', idem, 'thread_root', root_mid, 'coalesced_count', '0',
    'acknowledged_by', ack_by, 'acknowledged_at', ack_at)
end

if not deliver then
  base_fields()
  redis.call('HSET', key, 'status', 'skipped', 'message_id', '')
  redis.call('ZADD', p .. 'status:skipped', now, id)
  redis.call('EXPIRE', key, retention)
  remember_key()
  return {id, 1, ''}
end

if is_update then
  local pending = redis.call('GET', inc .. 'pending')
  local pkey = pending and (p .. 'n:' .. pending)
  if pending and redis.call('HGET', pkey, 'status') == 'queued' then
    -- The held update email carries this one: latest content wins, recipients are united.
    local to = cjson.decode(redis.call('HGET', pkey, 'to'))
    local seen = {}
    for _, a in ipairs(to) do seen[string.lower(a)] = true end
    for _, a in ipairs(d.to) do
      if not seen[string.lower(a)] then table.insert(to, a); seen[string.lower(a)] = true end
    end
    redis.call('HSET', pkey, 'event', d.event, 'severity', d.severity, 'title', d.title,
      'summary', d.summary, 'report_markdown', d.report_markdown, 'url', d.url,
      'to', cjson.encode(to), 'links', cjson.encode(d.links or {}), 'proposals', cjson.encode(d.proposals or {}),
      'acknowledged_by', ack_by, 'acknowledged_at', ack_at)
    redis.call('HINCRBY', pkey, 'coalesced_count', 1)
    base_fields()
    redis.call('HSET', key, 'status', 'coalesced', 'coalesced_into', pending, 'message_id', '')
    redis.call('EXPIRE', key, retention)
    remember_key()
    return {id, 1, pending}
  end
end

local due = now
if is_update then
  local next_ok = tonumber(redis.call('GET', inc .. 'next_update') or '0')
  if next_ok > due then due = next_ok end
  redis.call('SET', inc .. 'next_update', tostring(due + interval), 'EX', retention)
  redis.call('SET', inc .. 'pending', id, 'EX', retention)
else
  -- Status changes are never delayed, and a held update goes out with them.
  local pending = redis.call('GET', inc .. 'pending')
  if pending and redis.call('ZADD', p .. 'due', 'XX', 'LT', 'CH', now, pending) == 1 then
    redis.call('HSET', p .. 'n:' .. pending, 'ready_at', ARGV[4], 'next_attempt_at', ARGV[4])
  end
end

local mid = own_mid
if d.event == 'opened' and redis.call('SET', inc .. 'root', id, 'NX', 'EX', retention) then
  mid = root_mid
end

base_fields()
redis.call('HSET', key, 'status', 'queued', 'message_id', mid, 'next_attempt_at', tostring(due),
  'ready_at', tostring(due))
redis.call('ZADD', p .. 'due', due, id)
redis.call('ZADD', p .. 'status:queued', now, id)
remember_key()
redis.call('RPUSH', p .. 'wake', '1')
redis.call('LTRIM', p .. 'wake', -64, -1)
return {id, 1, ''}
