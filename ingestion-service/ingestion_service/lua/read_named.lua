-- KEYS = the counters hashes of ONE scope over a window's minutes; ARGV[1] = the zero bucket's key,
-- ARGV[2] = "1" to read the Ta latency buckets too, ARGV[3] = "1" to read the packed Tr sketch.
-- → {n, e5, "key count ...", rt, rd, ca, "index count ..."}: requests, 5xx, Ta buckets, retries,
-- redispatches, client aborts and the Tr sketch (packed indexes) merged over the window inside
-- Redis, so the service decodes one short string per scope instead of every bucket of every
-- minute. The keys span several hash tags: on Redis Cluster each call holds the minutes of one hour (one tag).
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
    if mask ~= 0 then merge_chunks(c, mask, acc) end
    if want_tr then
      local packed = redis.call('GET', string.sub(c, 1, -2) .. 'r')
      if packed then sketch_decode(packed, tr) end
    end
  end
end
return {n, e5, flat_pairs(acc), rt, rd, ca, flat_pairs(tr)}
