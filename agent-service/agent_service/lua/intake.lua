-- POST /alerts intake in one atomic step (agent_service/incidents/intake.py).
-- KEYS: 1 dedup (base), 2 group→open incident, 3 incident id sequence, 4 stream, 5 group→last
-- incident, 6 group epoch (hash: epoch, last status)
-- ARGV: 1 payload JSON, 2 status, 3 dedup TTL seconds, 4 delivery key, 5 received_at, 6 request id
-- The epoch counts the group's firing → resolved → firing turns: a firing delivery after a
-- resolved one is a new page even when its content (and startsAt) equals an earlier delivery's
-- (a flapping alert, a silence lifted); retries and repeats within one turn stay duplicates.
local state = redis.call('HMGET', KEYS[6], 'epoch', 'last')
local epoch = tonumber(state[1]) or 0
if ARGV[2] == 'firing' and state[2] == 'resolved' then epoch = epoch + 1 end
local dedup = KEYS[1] .. ':' .. epoch
local seen = redis.call('GET', dedup)
if seen then return {1, seen} end
redis.call('HSET', KEYS[6], 'epoch', epoch, 'last', ARGV[2])
redis.call('EXPIRE', KEYS[6], ARGV[3])
local id = redis.call('GET', KEYS[2])
local previous = ''
if not id then
  if ARGV[2] ~= 'firing' then
    redis.call('SET', dedup, '', 'EX', ARGV[3])
    return {0, ''}
  end
  id = tostring(redis.call('INCR', KEYS[3]))
  redis.call('SET', KEYS[2], id)
  previous = redis.call('GET', KEYS[5]) or ''
  redis.call('SET', KEYS[5], id)
end
redis.call('XADD', KEYS[4], '*', 'payload', ARGV[1], 'incident_id', id, 'previous', previous,
           'delivery', ARGV[4], 'received_at', ARGV[5], 'request_id', ARGV[6])
redis.call('SET', dedup, id, 'EX', ARGV[3])
return {0, id}
