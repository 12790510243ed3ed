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
