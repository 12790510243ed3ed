-- KEYS[1] = names set. ARGV: cap, ttl, names... → 1 admitted / 0 over the cap, per name.
local cap = tonumber(ARGV[1])
local out = {}
for i = 3, #ARGV do
  if redis.call('SISMEMBER', KEYS[1], ARGV[i]) == 1 then out[#out + 1] = 1
  elseif redis.call('SCARD', KEYS[1]) < cap then redis.call('SADD', KEYS[1], ARGV[i]); out[#out + 1] = 1
  else out[#out + 1] = 0 end
end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
return out
