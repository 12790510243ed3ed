-- KEYS = the counters hashes of ONE scope over a window's minutes; ARGV[1] = the zero bucket's key,
-- ARGV[2] = "1" to read the latency buckets too. → {n, e5, "key count key count ..."}: requests,
-- 5xx and the latency buckets merged over the window inside Redis, so the service decodes one
-- short string per scope instead of every bucket of every minute. The keys span several hash
-- tags: on Redis Cluster this must become one call per minute.
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
