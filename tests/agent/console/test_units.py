"""The console's pure parts: session cookies, CSRF tokens, passwords, filters, redirects, forms."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from itsdangerous.encoding import base64_decode, base64_encode

from agent_service.console import session as sessions
from agent_service.console.errors import ConsoleRefusal
from agent_service.console.forms import FormError, parse_form
from agent_service.console.passwords import MAX_LENGTH, WeakPassword, hash_password, verify_password
from agent_service.console.routes.login import safe_next
from agent_service.console.views import list_filters

SECRET = b"unit-test-secret-of-thirty-two-bytes!"


def test_a_session_round_trips_and_any_change_breaks_it() -> None:
    session = sessions.new_session("alice", 3, now=1000.0, ttl_s=60)
    cookie = sessions.encode(session, SECRET)
    assert sessions.decode(cookie, SECRET, now=1059.0) == session
    assert sessions.decode(cookie, SECRET, now=1060.0) is None  # expired
    assert sessions.decode(cookie, b"another secret", now=1001.0) is None
    body, stamp, mac = cookie.split(".")  # itsdangerous: payload.timestamp.signature (not compressed)
    forged_body = base64_encode(base64_decode(body).replace(b'"e":3', b'"e":4')).decode()
    assert forged_body != body
    assert sessions.decode(f"{forged_body}.{stamp}.{mac}", SECRET, now=1001.0) is None


@given(st.text(max_size=200))
def test_no_text_decodes_to_a_session(text: str) -> None:
    assert sessions.decode(text, SECRET, now=0.0) is None


def test_csrf_tokens_are_per_session_and_purpose() -> None:
    one, two = (sessions.new_session("alice", 1, now=0.0, ttl_s=60) for _ in range(2))
    token = sessions.csrf_token(one, SECRET)
    assert sessions.csrf_ok(one, SECRET, token)
    assert not sessions.csrf_ok(two, SECRET, token)
    assert not sessions.csrf_ok(one, SECRET, None) and not sessions.csrf_ok(one, SECRET, "")
    assert not sessions.login_token_ok(one.sid, SECRET, token)  # a session's token is no sign-in token
    assert sessions.login_token_ok("n", SECRET, sessions.login_token("n", SECRET))
    assert not sessions.login_token_ok(None, SECRET, sessions.login_token("n", SECRET))


def test_a_value_signed_for_one_purpose_is_refused_for_another() -> None:
    session = sessions.new_session("alice", 1, now=0.0, ttl_s=60)
    cookie, csrf = sessions.encode(session, SECRET), sessions.csrf_token(session, SECRET)
    as_login = sessions.login_token(session.sid, SECRET)  # the same value, the sign-in form's purpose
    assert sessions.login_token_ok(session.sid, SECRET, as_login)
    assert not sessions.csrf_ok(session, SECRET, as_login)
    assert not sessions.login_token_ok(session.sid, SECRET, csrf)
    assert not sessions.csrf_ok(session, SECRET, cookie)
    assert sessions.decode(csrf, SECRET, now=1.0) is None and sessions.decode(as_login, SECRET, now=1.0) is None
    assert not sessions.csrf_ok(session, SECRET, sessions.csrf_token(session, b"another secret"))


async def test_passwords_are_argon2id_with_bounds() -> None:
    with pytest.raises(WeakPassword):
        hash_password("short")
    longest = "p" * MAX_LENGTH
    stored = hash_password(longest)
    assert stored.startswith("$argon2id$")
    assert await verify_password(stored, longest)
    assert not await verify_password(stored, longest + "extra")  # never compared on a prefix
    assert not await verify_password(None, longest)
    assert not await verify_password("not a hash", longest)


def test_list_filters_read_empty_as_any_and_refuse_bad_values() -> None:
    filters = list_filters({"status": "", "severity": "critical", "cursor": "25"})
    assert filters.status is None and filters.severity == "critical" and filters.cursor == 25
    assert filters.query(cursor=50) == "severity=critical&cursor=50" and filters.query() == "severity=critical"
    for bad in ({"status": "open"}, {"severity": "high"}, {"cursor": "-1"}, {"cursor": "x"}):
        with pytest.raises(ConsoleRefusal) as refused:
            list_filters(bad)
        assert refused.value.status_code == 422


def test_after_sign_in_only_console_paths() -> None:
    assert safe_next("/console/incidents/3?x=1") == "/console/incidents/3?x=1"
    for target in (None, "", "/docs", "//evil.example/console/", "https://evil.example", "/console/\\\\evil"):
        assert safe_next(target) == "/console/incidents"


def test_forms_are_bounded_and_readable() -> None:
    assert parse_form(b"a=1&b=&a=2") == {"a": "2", "b": ""}
    with pytest.raises(FormError) as bad:
        parse_form(b"a=%ff")
    assert bad.value.status_code == 400
    with pytest.raises(FormError) as many:
        parse_form(b"&".join(b"f%d=1" % n for n in range(60)))
    assert many.value.status_code == 400
    with pytest.raises(FormError) as big:
        parse_form(b"a=" + b"x" * 70_000)
    assert big.value.status_code == 413
