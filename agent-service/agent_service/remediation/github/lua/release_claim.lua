-- Release a filing claim only if it is still ours (remediation/github/record.py).
-- KEYS: 1 the claim key; ARGV: 1 the claimant's token. Returns 1 when released, 0 otherwise.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
