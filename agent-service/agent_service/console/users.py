"""Console users in Redis. Each change of password or role, and a removal, bumps the user's
session epoch, so every cookie issued before it is refused."""

from __future__ import annotations

from datetime import UTC, datetime

import redis.asyncio as aioredis
from pydantic import BaseModel
from redis.asyncio.client import Pipeline

from agent_service.console.keys import USERS, epoch_key, user_key
from agent_service.console.passwords import hash_password
from agent_service.console.roles import Role, valid_name


class UserError(ValueError):
    pass


class UserNotFound(UserError):
    pass


class User(BaseModel):
    name: str
    role: Role
    epoch: int
    created_at: datetime
    password_hash: str


def _text(value: bytes | str | None) -> str:
    return value.decode() if isinstance(value, bytes) else (value or "")


def _checked(name: str) -> str:
    if not valid_name(name):
        raise UserError("a user name is 1 to 32 characters: lower-case letters, digits, '_', '.', '-'")
    return name


class UserStore:
    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    async def get(self, name: str) -> User | None:
        if not valid_name(name):
            return None
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(user_key(name))
            pipe.get(epoch_key(name))
            fields, epoch = await pipe.execute()
        if not fields:
            return None
        data = {_text(k): _text(v) for k, v in fields.items()}
        return User(name=name, role=Role(data["role"]), epoch=int(_text(epoch) or 0),
                    created_at=datetime.fromisoformat(data["created_at"]), password_hash=data["password_hash"])

    async def list(self) -> list[User]:
        names = sorted(_text(n) for n in await self.redis.smembers(USERS))
        users = [await self.get(name) for name in names]
        return [u for u in users if u is not None]

    async def add(self, name: str, *, role: Role, password: str) -> User:
        key = user_key(_checked(name))
        password_hash = hash_password(password)
        created = datetime.now(UTC).isoformat()

        async def apply(pipe: Pipeline) -> None:
            if await pipe.exists(key):
                raise UserError(f"user {name} exists")
            pipe.multi()
            pipe.hset(key, mapping={"role": role.value, "password_hash": password_hash, "created_at": created})
            pipe.sadd(USERS, name)
            pipe.incr(epoch_key(name))

        await self.redis.transaction(apply, key)
        user = await self.get(name)
        assert user is not None  # noqa: S101 - just written
        return user

    async def _change(self, name: str, fields: dict[str, str]) -> None:
        key = user_key(name)

        async def apply(pipe: Pipeline) -> None:
            if not valid_name(name) or not await pipe.exists(key):
                raise UserNotFound(f"no user {name}")
            pipe.multi()
            pipe.hset(key, mapping=fields)
            pipe.incr(epoch_key(name))

        await self.redis.transaction(apply, key)

    async def set_role(self, name: str, role: Role) -> None:
        await self._change(name, {"role": role.value})

    async def set_password(self, name: str, password: str) -> None:
        await self._change(name, {"password_hash": hash_password(password)})

    async def remove(self, name: str) -> None:
        if not valid_name(name):
            raise UserNotFound(f"no user {name}")
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(user_key(name))
            pipe.srem(USERS, name)
            pipe.incr(epoch_key(name))
            deleted, _, _ = await pipe.execute()
        if not deleted:
            raise UserNotFound(f"no user {name}")
