"""What the routes need, as `Annotated` dependencies. The lifespan (app.py) builds these
collaborators and keeps them on `app.state`; these getters are the only readers."""

from __future__ import annotations

from typing import Annotated

import redis.asyncio as aioredis
from fastapi import Depends, Request

from notifier_service.lanes import Fanout
from notifier_service.store import NotificationStore


def redis_client(request: Request) -> aioredis.Redis:
    return request.app.state.redis  # type: ignore[no-any-return]


def notification_store(request: Request) -> NotificationStore:
    return request.app.state.store  # type: ignore[no-any-return]


StoreDep = Annotated[NotificationStore, Depends(notification_store)]


def fanout(request: Request) -> Fanout:
    return request.app.state.fanout  # type: ignore[no-any-return]


FanoutDep = Annotated[Fanout, Depends(fanout)]
