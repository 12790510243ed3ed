"""`oncall-admin user …` against a real redis-server: the installed console script, and the
module (`python -m agent_service.console.admin`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from agent_service.console.passwords import verify_password
from agent_service.console.roles import Role
from agent_service.console.users import UserStore

ADMIN = Path(sys.executable).parent / "oncall-admin"


def admin(redis_url: str, *args: str, stdin: str = "", module: bool = False) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "agent_service.console.admin"] if module else [str(ADMIN)]
    return subprocess.run([*command, *args], input=stdin, capture_output=True, text=True, timeout=60,  # noqa: S603
                          env={**os.environ, "REDIS_URL": redis_url}, check=False)


async def test_user_lifecycle_from_the_command_line(redis_url: str, users: UserStore) -> None:
    added = admin(redis_url, "user", "add", "alice", "--role", "admin", "--password-stdin", stdin="s3cret pass\n")
    assert added.returncode == 0, added.stderr
    alice = await users.get("alice")
    assert alice is not None and alice.role == Role.admin
    assert await verify_password(alice.password_hash, "s3cret pass")
    assert not await verify_password(alice.password_hash, "s3cret pass\n")
    assert "s3cret" not in alice.password_hash and alice.password_hash.startswith("$argon2id$")

    assert admin(redis_url, "user", "add", "bob", "--role", "viewer", "--password-stdin", stdin="another one\n",
                 module=True).returncode == 0
    listed = admin(redis_url, "user", "list").stdout.splitlines()
    assert [line.split("\t")[:2] for line in listed] == [["alice", "admin"], ["bob", "viewer"]]

    assert admin(redis_url, "user", "set-role", "bob", "responder").returncode == 0
    assert (await users.get("bob")).role == Role.responder  # type: ignore[union-attr]
    epoch = (await users.get("bob")).epoch  # type: ignore[union-attr]
    assert admin(redis_url, "user", "set-password", "bob", "--password-stdin", stdin="changed pass\n").returncode == 0
    bob = await users.get("bob")
    assert bob is not None and bob.epoch == epoch + 1 and await verify_password(bob.password_hash, "changed pass")
    assert admin(redis_url, "user", "remove", "bob").returncode == 0
    assert await users.get("bob") is None


async def test_refusals_are_clear_and_nonzero(redis_url: str) -> None:
    admin(redis_url, "user", "add", "alice", "--role", "viewer", "--password-stdin", stdin="long enough\n")
    cases = [
        (("user", "add", "alice", "--role", "viewer", "--password-stdin"), "long enough\n", "exists"),
        (("user", "add", "carol", "--role", "viewer", "--password-stdin"), "short\n", "8 to"),
        (("user", "add", "Not Valid", "--role", "viewer", "--password-stdin"), "long enough\n", "user name"),
        (("user", "remove", "nobody"), "", "no user"),
        (("user", "set-role", "nobody", "admin"), "", "no user"),
    ]
    for args, stdin, message in cases:
        answer = admin(redis_url, *args, stdin=stdin)
        assert answer.returncode == 1 and message in answer.stderr, (args, answer.stderr)
    assert admin(redis_url, "user", "add", "x", "--role", "root", "--password-stdin").returncode == 2  # argparse
    down = admin("redis://127.0.0.1:1/0", "user", "list")
    assert down.returncode == 2 and "Redis unavailable" in down.stderr
