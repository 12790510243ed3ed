-- KEYS = the counters hashes of ONE scope over a span's minutes, oldest first. ARGV[1] = the zero
-- bucket's key, ARGV[2] = "1" to merge the Ta buckets (the service merges a backend's from its
-- servers' when they add up, and the site's from every server's), ARGV[3] = "1" to merge the packed Tr
-- sketch, ARGV[4..] = the counters fields wanted per minute.
-- → {sums "field value ...", maxima "field value ...", per minute the ARGV[4..] values then its
-- server failures (termination states S… and s…) all in one "v v v ..." string, Ta buckets
-- "key count ...", Tr "index count ..."}: the whole span of a scope in one call, so the service
-- decodes five short strings instead of every field of every minute (breakdown, queries/stats.py).
-- The keys span several hash tags: on Redis Cluster each call holds the minutes of one hour (one tag).
local sums, maxima, acc, tr, cols = {}, {}, {}, {}, {}
local want, want_tr = ARGV[2] == '1', ARGV[3] == '1'
for i = 1, #KEYS do
  local c = KEYS[i]
  local h = redis.call('HGETALL', c)
  local row, failures, mask = {}, 0, 0
  for j = 1, #h, 2 do
    local f, v = h[j], h[j + 1]
    local b1, b2, b3 = string.byte(f, 1, 3)  -- bytes, not substrings: no string made per field
    if b2 == 58 and b1 == 120 then  -- "x:"
      local name, n = string.sub(f, 3), tonumber(v)
      if not maxima[name] or maxima[name] < n then maxima[name] = n end
    elseif f == 'hk' then mask = tonumber(v)
    elseif f == 'hz' then
      if want then acc[ARGV[1]] = (acc[ARGV[1]] or 0) + tonumber(v) end
    else
      sums[f] = (sums[f] or 0) + tonumber(v)
      row[f] = v
      if b2 == 58 and b1 == 116 and (b3 == 83 or b3 == 115) then  -- "t:S" or "t:s"
        failures = failures + tonumber(v)
      end
    end
  end
  for k = 4, #ARGV do cols[#cols + 1] = row[ARGV[k]] or '0' end
  cols[#cols + 1] = string.format('%d', failures)
  if want and mask ~= 0 then merge_chunks(c, mask, acc) end
  if want_tr and #h > 0 then
    local packed = redis.call('GET', string.sub(c, 1, -2) .. 'r')
    if packed then sketch_decode(packed, tr) end
  end
end
return {flat_pairs(sums), flat_pairs(maxima), table.concat(cols, ' '), flat_pairs(acc), flat_pairs(tr)}
