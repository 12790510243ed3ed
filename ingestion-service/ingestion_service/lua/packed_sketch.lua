-- Shared by the read and write scripts. A latency sketch packed in one string (the Tr sketch: far fewer bytes than a hash per chunk).
-- Buckets in index order, each as two varints (7 bits a byte, low first, high bit = more): the
-- gap to the previous index minus one (the first: its index), then the count. Index = sketch key
-- + 1, and 0 for the zero bucket. Prepended to the scripts that use it (store/scripts.py).
local function sketch_decode(s, acc)
  local i, len, idx = 1, #s, -1
  while i <= len do
    local v, mul = 0, 1
    repeat
      local b = string.byte(s, i); i = i + 1; v = v + (b % 128) * mul; mul = mul * 128
    until b < 128
    idx = idx + v + 1
    local c = 0
    mul = 1
    repeat
      local b = string.byte(s, i); i = i + 1; c = c + (b % 128) * mul; mul = mul * 128
    until b < 128
    acc[idx] = (acc[idx] or 0) + c
  end
end

local function sketch_varint(out, v)
  while v >= 128 do
    out[#out + 1] = string.char(v % 128 + 128); v = math.floor(v / 128)
  end
  out[#out + 1] = string.char(v)
end

local function sketch_encode(acc)
  local idxs = {}
  for idx in pairs(acc) do idxs[#idxs + 1] = idx end
  table.sort(idxs)
  local out, prev = {}, -1
  for _, idx in ipairs(idxs) do
    sketch_varint(out, idx - prev - 1); sketch_varint(out, acc[idx]); prev = idx
  end
  return table.concat(out)
end

-- Add the Ta bucket hashes named by the `hk` chunk mask of counters hash `c` into `acc`.
local function merge_chunks(c, mask, acc)
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

local function flat_pairs(t)
  local parts = {}
  for k, c in pairs(t) do
    parts[#parts + 1] = k
    parts[#parts + 1] = string.format('%d', c)
  end
  return table.concat(parts, ' ')
end
