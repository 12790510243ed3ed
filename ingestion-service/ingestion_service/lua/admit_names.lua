-- KEYS[1] = this hour's admitted names, KEYS[2] = the previous hour's. ARGV: cap, ttl, names...
-- → 1 admitted / 0 over the cap, per name. A name admitted in either hour stays itself (and is
-- carried into this hour); a new one takes one of this hour's `cap` slots while any are left, so
-- names seen in one hour take no slots in the next: a flood of junk names ages out within an hour.
local cap = tonumber(ARGV[1])
local out = {}
for i = 3, #ARGV do
  if redis.call('SISMEMBER', KEYS[1], ARGV[i]) == 1 then out[#out + 1] = 1
  elseif redis.call('SISMEMBER', KEYS[2], ARGV[i]) == 1 or redis.call('SCARD', KEYS[1]) < cap then
    redis.call('SADD', KEYS[1], ARGV[i]); out[#out + 1] = 1
  else out[#out + 1] = 0 end
end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
return out
