-- KEYS[1] = counters hash of one scope-minute; returns {counters flat, buckets flat}.
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
