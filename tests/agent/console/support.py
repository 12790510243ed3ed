"""The agent app on a real redis-server, driven over ASGI like a browser: forms, cookies, CSRF."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import redis.asyncio as aioredis

from agent_service.app import create_app
from agent_service.console.roles import Role
from agent_service.console.users import UserStore
from agent_service.settings import Settings

SECRET = "test-console-secret-0123456789abcdef"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def console_settings(redis_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "redis_url": redis_url, "notifier_url": "", "ingestion_url": "http://127.0.0.1:9",
        "llm_engine": "rules", "log_json": False, "console_secret": SECRET, "alert_worker_enabled": False,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@asynccontextmanager
async def console_app(settings: Settings, *, scheme: str = "http") -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url=f"{scheme}://agent.test") as client:
            yield client


async def add_user(redis_url: str, name: str, role: Role, password: str = "correct horse") -> None:
    client = aioredis.Redis.from_url(redis_url)
    try:
        await UserStore(client).add(name, role=role, password=password)
    finally:
        await client.aclose()


def csrf_of(page: str) -> str:
    match = _CSRF.search(page)
    assert match, "no CSRF field on the page"
    return html.unescape(match.group(1))


async def sign_in(client: httpx.AsyncClient, name: str, password: str = "correct horse") -> httpx.Response:
    form = await client.get("/console/login")
    return await client.post("/console/login", data={"username": name, "password": password,
                                                     "csrf": csrf_of(form.text)})


async def post_form(client: httpx.AsyncClient, path: str, data: dict[str, str], *, page: str) -> httpx.Response:
    """POST `data` with the CSRF token of `page` (a path already shown to the signed-in user)."""
    token = csrf_of((await client.get(page)).text)
    return await client.post(path, data={**data, "csrf": token})


@asynccontextmanager
async def on_incident(redis_url: str, name: str, role: Role, *, settings: dict[str, Any] | None = None,
                      **incident: Any) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """A console user `name` signed in, and an incident opened through the API: (client, its page)."""
    await add_user(redis_url, name, role)
    async with console_app(console_settings(redis_url, **(settings or {}))) as client:
        incident_id = (await client.post("/incidents", json={"title": "t", **incident})).json()["id"]
        await sign_in(client, name)
        yield client, f"/console/incidents/{incident_id}"
