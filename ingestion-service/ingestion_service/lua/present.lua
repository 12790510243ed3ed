-- KEYS = counters hashes (the site's, one per minute); → {1 or 0 per key}: which minutes hold data.
-- One call per hour tag on Redis Cluster, one for the whole window standalone.
local out = {}
for i = 1, #KEYS do out[i] = redis.call('EXISTS', KEYS[i]) end
return out
