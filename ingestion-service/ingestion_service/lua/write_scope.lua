-- One scope-minute's write, run inside the batch's MULTI/EXEC (its keys share one hash tag).
-- KEYS[1] = counters hash, KEYS[2] = the packed Tr sketch (string, see packed_sketch.lua),
-- KEYS[3..] = bucket hashes. ARGV: ttl, "field incr field incr ..." sums, "field value ..." maxima,
-- "index count ..." of the Tr sketch (empty: none), then per bucket hash: its chunk index and
-- "key count key count ...".
-- Pairs travel packed in one string each: far cheaper for the client than one argument per value.
-- Increments are whole numbers >= 0 (haproxy/limits.py), so the only error HINCRBY can meet is a
-- sum passing 2^63 - 1: the sum then stays at that ceiling. A failing call would end the script
-- half-way (Lua does not roll back) and every later batch for the minute would fail the same way.
-- Redis Cluster (store/cluster_writer.py) adds one KEY and one ARGV at the end, so ARGV's count
-- turns odd: the scope-minute's batch record (a hash, same hash tag) and the batch id. A batch id
-- already there → nothing counted, 0 returned; the record's EXPIRE is still a write, so a WAIT
-- after this call also covers the first write. The record is the first write: an OOM refusal
-- leaves nothing behind.
local ttl = tonumber(ARGV[1])
local c = KEYS[1]
local last = #KEYS
if #ARGV % 2 == 1 then
  local record = KEYS[last]
  last = last - 1
  local fresh = redis.call('HSETNX', record, ARGV[#ARGV], 1)
  redis.call('EXPIRE', record, ttl)
  if fresh == 0 then return 0 end
end
local function incr(key, f, v)
  local r = redis.pcall('HINCRBY', key, f, v)
  if type(r) == 'table' and r.err then redis.call('HSET', key, f, '9223372036854775807') end
end
for f, v in string.gmatch(ARGV[2], '(%S+) (%S+)') do incr(c, f, v) end
for f, v in string.gmatch(ARGV[3], '(%S+) (%S+)') do
  local cur = redis.call('HGET', c, f)
  if (not cur) or tonumber(cur) < tonumber(v) then redis.call('HSET', c, f, v) end
end
if ARGV[4] ~= '' then
  local acc = {}
  sketch_decode(redis.call('GET', KEYS[2]) or '', acc)
  for f, v in string.gmatch(ARGV[4], '(%S+) (%S+)') do
    local idx = tonumber(f)
    acc[idx] = (acc[idx] or 0) + tonumber(v)
  end
  redis.call('SET', KEYS[2], sketch_encode(acc), 'EX', ttl)
end
local mask = tonumber(redis.call('HGET', c, 'hk') or '0')
for k = 3, last do
  local chunk = tonumber(ARGV[3 + 2 * (k - 2)])
  for f, v in string.gmatch(ARGV[4 + 2 * (k - 2)], '(%S+) (%S+)') do incr(KEYS[k], f, v) end
  redis.call('EXPIRE', KEYS[k], ttl)
  mask = bit.bor(mask, bit.lshift(1, chunk + 16))
end
if last > 2 then redis.call('HSET', c, 'hk', mask) end
redis.call('EXPIRE', c, ttl)
return 1
