"""The console's sign-in rules over HTTP on a real redis-server: sessions, epochs, CSRF, roles,
rate limits. Fast (ASGI, no browser); the browser tests are in tests/e2e/test_console_browser.py."""

from __future__ import annotations

import time

import pytest

from agent_service.console import session as sessions
from agent_service.console.roles import Role
from agent_service.console.users import UserStore
from tests.agent.console.support import SECRET, add_user, console_app, console_settings, csrf_of, post_form, sign_in


async def test_sign_in_sets_a_strict_httponly_cookie_and_opens_the_list(redis_url: str) -> None:
    await add_user(redis_url, "alice", Role.responder)
    async with console_app(console_settings(redis_url)) as client:
        assert (await client.get("/console/incidents")).headers["location"].startswith("/console/login?next=")
        answer = await sign_in(client, "alice")
        assert answer.status_code == 303 and answer.headers["location"] == "/console/incidents"
        cookie = answer.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "path=/console" in cookie
        assert f"max-age={12 * 3600}" in cookie and "secure" not in cookie  # PUBLIC_URL is http here
        page = await client.get("/console/incidents")
        assert page.status_code == 200 and "alice" in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]


async def test_secure_cookie_when_public_url_is_https(redis_url: str) -> None:
    await add_user(redis_url, "alice", Role.viewer)
    async with console_app(console_settings(redis_url, public_url="https://oncall.example"),
                           scheme="https") as client:
        answer = await sign_in(client, "alice")
        assert "secure" in answer.headers["set-cookie"].lower()


def test_https_without_a_console_secret_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="CONSOLE_SECRET"):
        console_settings("redis://127.0.0.1:1/0", public_url="https://oncall.example", console_secret=None)


async def test_wrong_password_and_unknown_user_are_the_same_401(redis_url: str) -> None:
    await add_user(redis_url, "alice", Role.viewer)
    async with console_app(console_settings(redis_url)) as client:
        wrong = await sign_in(client, "alice", "not the password")
        unknown = await sign_in(client, "mallory", "correct horse")
        for answer in (wrong, unknown):
            assert answer.status_code == 401 and "wrong user name or password" in answer.text
            assert "oncall_console=" not in answer.headers.get("set-cookie", "")


async def test_sign_in_without_its_csrf_token_is_403(redis_url: str) -> None:
    await add_user(redis_url, "alice", Role.viewer)
    async with console_app(console_settings(redis_url)) as client:
        await client.get("/console/login")
        answer = await client.post("/console/login", data={"username": "alice", "password": "correct horse"})
        assert answer.status_code == 403 and "CSRF" in answer.text


async def test_failed_sign_ins_are_limited_per_user_and_per_address(redis_url: str, users: UserStore) -> None:
    await add_user(redis_url, "alice", Role.viewer)
    await add_user(redis_url, "bob", Role.viewer)
    settings = console_settings(redis_url, console_login_max_attempts=2, console_login_window_s=600)
    async with console_app(settings) as client:
        for _ in range(2):
            assert (await sign_in(client, "alice", "wrong password")).status_code == 401
        limited = await sign_in(client, "alice")  # even the right password, until the window ends
        assert limited.status_code == 429 and 0 < int(limited.headers["retry-after"]) <= 600
        # The same address is over its limit too: another user from it is refused as well.
        assert (await sign_in(client, "bob")).status_code == 429
    await users.redis.flushall()
    await add_user(redis_url, "bob", Role.viewer)
    async with console_app(settings) as client:
        assert (await sign_in(client, "bob")).status_code == 303


async def test_a_post_without_or_with_a_wrong_csrf_token_is_403(redis_url: str) -> None:
    await add_user(redis_url, "alice", Role.responder)
    async with console_app(console_settings(redis_url)) as client:
        created = await client.post("/incidents", json={"title": "disk full"})
        incident_id = created.json()["id"]
        await sign_in(client, "alice")
        for data in ({"text": "hi"}, {"csrf": "forged"}):
            answer = await client.post(f"/console/incidents/{incident_id}/ack", data=data)
            assert answer.status_code == 403 and "CSRF" in answer.text
        assert (await client.get(f"/incidents/{incident_id}")).json()["acknowledged_by"] != "console:alice"


async def test_a_form_of_another_type_is_415(redis_url: str) -> None:
    await add_user(redis_url, "alice", Role.responder)
    async with console_app(console_settings(redis_url)) as client:
        await sign_in(client, "alice")
        answer = await client.post("/console/incidents/1/ack", json={"csrf": "x"})
        assert answer.status_code == 415


async def test_a_cookie_from_before_a_password_change_is_refused(redis_url: str, users: UserStore) -> None:
    await add_user(redis_url, "alice", Role.responder)
    async with console_app(console_settings(redis_url)) as client:
        await sign_in(client, "alice")
        old = client.cookies.get(sessions.COOKIE)
        assert (await client.get("/console/incidents")).status_code == 200
        await users.set_password("alice", "a brand new one")
        refused = await client.get("/console/incidents")
        assert refused.status_code == 303 and refused.headers["location"].startswith("/console/login")
        assert client.cookies.get(sessions.COOKIE) == old  # the same cookie, now refused
        assert (await sign_in(client, "alice", "a brand new one")).status_code == 303
        assert (await client.get("/console/incidents")).status_code == 200


async def test_a_role_change_or_removal_ends_the_sessions(redis_url: str, users: UserStore) -> None:
    await add_user(redis_url, "alice", Role.admin)
    store = users
    async with console_app(console_settings(redis_url)) as client:
        await sign_in(client, "alice")
        await store.set_role("alice", Role.viewer)
        assert (await client.get("/console/incidents")).status_code == 303
        await sign_in(client, "alice")
        await store.remove("alice")
        await store.add("alice", role=Role.admin, password="correct horse")  # re-created: a new epoch
        assert (await client.get("/console/incidents")).status_code == 303


async def test_an_expired_or_forged_cookie_is_refused(redis_url: str, users: UserStore) -> None:
    await add_user(redis_url, "alice", Role.viewer)
    epoch = (await users.get("alice")).epoch  # type: ignore[union-attr]
    now = time.time()
    expired = sessions.encode(sessions.new_session("alice", epoch, now=now - 7200, ttl_s=3600), SECRET.encode())
    fresh = sessions.new_session("alice", epoch, now=now, ttl_s=3600)
    forged = sessions.encode(fresh, b"another secret of 32 characters!!")
    valid = sessions.encode(fresh, SECRET.encode())
    async with console_app(console_settings(redis_url)) as client:
        for cookie, status in ((expired, 303), (forged, 303), (valid + "x", 303), (valid, 200)):
            client.cookies.set(sessions.COOKIE, cookie, domain="agent.test", path="/console")
            assert (await client.get("/console/incidents")).status_code == status
            client.cookies.clear()


async def test_sign_out_clears_the_cookie(redis_url: str) -> None:
    await add_user(redis_url, "alice", Role.viewer)
    async with console_app(console_settings(redis_url)) as client:
        await sign_in(client, "alice")
        answer = await post_form(client, "/console/logout", {}, page="/console/incidents")
        assert answer.status_code == 303 and "oncall_console=\"\"" in answer.headers["set-cookie"]
        assert (await client.get("/console/incidents")).status_code == 303


async def test_after_sign_in_only_a_console_path_is_followed(redis_url: str) -> None:
    await add_user(redis_url, "alice", Role.viewer)
    async with console_app(console_settings(redis_url)) as client:
        for target, expected in (("/console/incidents/7", "/console/incidents/7"),
                                 ("https://evil.example/", "/console/incidents"),
                                 ("//evil.example/console/", "/console/incidents")):
            form = await client.get("/console/login")
            answer = await client.post("/console/login", data={
                "username": "alice", "password": "correct horse", "csrf": csrf_of(form.text), "next": target})
            assert answer.headers["location"] == expected
            client.cookies.clear()


async def test_a_poll_after_the_session_ended_sends_the_page_to_sign_in(redis_url: str) -> None:
    async with console_app(console_settings(redis_url)) as client:
        answer = await client.get("/console/incidents/1/timeline", headers={
            "HX-Request": "true", "HX-Current-URL": "http://agent.test/console/incidents/1"})
        assert answer.status_code == 401 and answer.text == ""
        assert answer.headers["hx-redirect"] == "/console/login?next=%2Fconsole%2Fincidents%2F1"
        plain = await client.get("/console/incidents?status=OPEN")
        assert plain.headers["location"] == "/console/login?next=%2Fconsole%2Fincidents%3Fstatus%3DOPEN"


async def test_console_disabled_is_404(redis_url: str) -> None:
    async with console_app(console_settings(redis_url, console_enabled=False)) as client:
        for path in ("/console/", "/console/login", "/console/static/console.css"):
            assert (await client.get(path)).status_code == 404
