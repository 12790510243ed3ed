"""Lua run inside MULTI/EXEC: each script touches only one scope-minute's keys (one hash tag)."""

from __future__ import annotations

# KEYS[1] = counters hash, KEYS[2..] = bucket hashes. ARGV: ttl, "field incr field incr ..." sums,
# "field value ..." maxima, then per bucket hash: its chunk index and "key count key count ...".
# Pairs travel packed in one string each: far cheaper for the client than one argument per value.
WRITE_SCOPE = """
local ttl = tonumber(ARGV[1])
local c = KEYS[1]
for f, v in string.gmatch(ARGV[2], '(%S+) (%S+)') do redis.call('HINCRBY', c, f, v) end
for f, v in string.gmatch(ARGV[3], '(%S+) (%S+)') do
  local cur = redis.call('HGET', c, f)
  if (not cur) or tonumber(cur) < tonumber(v) then redis.call('HSET', c, f, v) end
end
local mask = tonumber(redis.call('HGET', c, 'hk') or '0')
for k = 2, #KEYS do
  local chunk = tonumber(ARGV[2 + 2 * (k - 1)])
  for f, v in string.gmatch(ARGV[3 + 2 * (k - 1)], '(%S+) (%S+)') do redis.call('HINCRBY', KEYS[k], f, v) end
  redis.call('EXPIRE', KEYS[k], ttl)
  mask = bit.bor(mask, bit.lshift(1, chunk + 16))
end
if #KEYS > 1 then redis.call('HSET', c, 'hk', mask) end
redis.call('EXPIRE', c, ttl)
return 1
"""

# KEYS[1] = counters hash of one scope-minute; returns {counters flat, buckets flat}.
READ_SCOPE = """
local c = KEYS[1]
local counters = redis.call('HGETALL', c)
local mask = tonumber(redis.call('HGET', c, 'hk') or '0')
local buckets = {}
if mask ~= 0 then
  local prefix = string.sub(c, 1, -2) .. 'h'
  for bitpos = 0, 31 do
    if bit.band(mask, bit.lshift(1, bitpos)) ~= 0 then
      local h = redis.call('HGETALL', prefix .. (bitpos - 16))
      for j = 1, #h do buckets[#buckets + 1] = h[j] end
    end
  end
end
return {counters, buckets}
"""

# KEYS[1] = names set. ARGV: cap, ttl, names... → 1 admitted / 0 over the cap, per name.
ADMIT_NAMES = """
local cap = tonumber(ARGV[1])
local out = {}
for i = 3, #ARGV do
  if redis.call('SISMEMBER', KEYS[1], ARGV[i]) == 1 then out[#out + 1] = 1
  elseif redis.call('SCARD', KEYS[1]) < cap then redis.call('SADD', KEYS[1], ARGV[i]); out[#out + 1] = 1
  else out[#out + 1] = 0 end
end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
return out
"""

# KEYS = the counters hashes of ONE scope over a window's minutes; ARGV[1] = the zero bucket's key,
# ARGV[2] = "1" to read the latency buckets too. → {n, e5, "key count key count ..."}: requests, 5xx and the latency buckets merged over the window
# inside Redis, so the service decodes one short string per scope instead of every bucket of every
# minute. The keys span several hash tags: on Redis Cluster this must become one call per minute.
READ_NAMED = """
local n, e5 = 0, 0
local acc = {}
local want = ARGV[2] == '1'
for i = 1, #KEYS do
  local c = KEYS[i]
  local v = redis.call('HMGET', c, 'n', 'e5', 'hz', 'hk')
  if v[1] then
    n = n + tonumber(v[1])
    e5 = e5 + tonumber(v[2] or '0')
    if want and v[3] then acc[ARGV[1]] = (acc[ARGV[1]] or 0) + tonumber(v[3]) end
    local mask = want and tonumber(v[4] or '0') or 0
    if mask ~= 0 then
      local prefix = string.sub(c, 1, -2) .. 'h'
      for bitpos = 0, 31 do
        if bit.band(mask, bit.lshift(1, bitpos)) ~= 0 then
          local h = redis.call('HGETALL', prefix .. (bitpos - 16))
          for j = 1, #h, 2 do
            local k = h[j]
            acc[k] = (acc[k] or 0) + h[j + 1]
          end
        end
      end
    end
  end
end
local parts = {}
for k, c in pairs(acc) do
  parts[#parts + 1] = k
  parts[#parts + 1] = string.format('%d', c)
end
return {n, e5, table.concat(parts, ' ')}
"""
