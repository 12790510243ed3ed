-- KEYS = the counters hashes of ONE scope over some minutes (one hour's on Redis Cluster: one tag);
-- ARGV[1] = "1" to read each minute's latency buckets too.
-- → per key {counters flat, buckets flat} (buckets empty when not asked for): every minute of a
-- window in one call per scope (per scope-hour on a cluster) instead of one call per minute.
local want = ARGV[1] == '1'
local out = {}
for i = 1, #KEYS do
  local c = KEYS[i]
  local counters = redis.call('HGETALL', c)
  local buckets = {}
  local mask = want and tonumber(redis.call('HGET', c, 'hk') or '0') or 0
  if mask ~= 0 then
    local prefix = string.sub(c, 1, -2) .. 'h'
    for bitpos = 0, 31 do
      if bit.band(mask, bit.lshift(1, bitpos)) ~= 0 then
        local h = redis.call('HGETALL', prefix .. (bitpos - 16))
        for j = 1, #h do buckets[#buckets + 1] = h[j] end
      end
    end
  end
  out[i] = {counters, buckets}
end
return out
