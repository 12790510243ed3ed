"""Failed sign-ins counted per user name and per client address in Redis (a fixed window each):
past the limit, sign-in is refused until the window ends."""

from __future__ import annotations

import redis.asyncio as aioredis

from agent_service.console.keys import login_addr_key, login_user_key


class LoginLimiter:
    def __init__(self, redis: aioredis.Redis, *, max_attempts: int, window_s: int) -> None:
        self.redis = redis
        self.max_attempts = max_attempts
        self.window_s = window_s

    def _keys(self, name: str, address: str) -> list[str]:
        return [login_user_key(name), login_addr_key(address)]

    async def retry_after(self, name: str, address: str) -> int | None:
        """Seconds until a sign-in may be tried again, or None when it may be tried now."""
        keys = self._keys(name, address)
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.get(key)
                pipe.ttl(key)
            raw = await pipe.execute()
        waits = [max(int(ttl), 1) for count, ttl in zip(raw[::2], raw[1::2], strict=True)
                 if count is not None and int(count) >= self.max_attempts]
        return max(waits) if waits else None

    async def failed(self, name: str, address: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            for key in self._keys(name, address):
                pipe.incr(key)
                pipe.expire(key, self.window_s, nx=True)
            await pipe.execute()

    async def succeeded(self, name: str) -> None:
        """A right password clears the name's count (not the address's)."""
        await self.redis.delete(login_user_key(name))
