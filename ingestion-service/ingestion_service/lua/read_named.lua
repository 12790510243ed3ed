-- KEYS = the counters hashes of ONE scope over a window's minutes; ARGV[1] = the zero bucket's key,
-- ARGV[2] = "1" to read the Ta latency buckets too, ARGV[3] = "1" to read the packed Tr sketch.
-- → {n, e5, "key count ...", rt, rd, ca, "index count ..."}: requests, 5xx, Ta buckets, retries,
-- redispatches, client aborts and the Tr sketch (packed indexes) merged over the window inside
-- Redis, so the service decodes one short string per scope instead of every bucket of every
-- minute. The keys span several hash tags: on Redis Cluster this must become one call per minute.
local n, e5, rt, rd, ca = 0, 0, 0, 0, 0
local acc, tr = {}, {}
local want = ARGV[2] == '1'
local want_tr = ARGV[3] == '1'
for i = 1, #KEYS do
  local c = KEYS[i]
  local v = redis.call('HMGET', c, 'n', 'e5', 'hz', 'hk', 'rt', 'rd', 'ca')
  if v[1] then
    n = n + tonumber(v[1])
    e5 = e5 + tonumber(v[2] or '0')
    rt = rt + tonumber(v[5] or '0')
    rd = rd + tonumber(v[6] or '0')
    ca = ca + tonumber(v[7] or '0')
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
    if want_tr then
      local packed = redis.call('GET', string.sub(c, 1, -2) .. 'r')
      if packed then sketch_decode(packed, tr) end
    end
  end
end
local function flat(t)
  local parts = {}
  for k, c in pairs(t) do
    parts[#parts + 1] = k
    parts[#parts + 1] = string.format('%d', c)
  end
  return table.concat(parts, ' ')
end
return {n, e5, flat(acc), rt, rd, ca, flat(tr)}
