"""`oncall-admin user add|list|remove|set-role|set-password`: console users in the agent's Redis
(REDIS_URL, as the agent reads it). Passwords only from standard input (--password-stdin)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from typing import TextIO

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from agent_service.console.passwords import WeakPassword
from agent_service.console.roles import Role
from agent_service.console.users import UserError, UserStore

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="oncall-admin", description="Manage oncall-copilot console users.")
    groups = top.add_subparsers(dest="group", required=True)
    user = groups.add_parser("user", help="console users").add_subparsers(dest="command", required=True)
    roles = [r.value for r in Role]
    add = user.add_parser("add", help="create a user")
    add.add_argument("name")
    add.add_argument("--role", choices=roles, required=True)
    add.add_argument("--password-stdin", action="store_true", required=True, help="read the password from stdin")
    user.add_parser("list", help="list users")
    remove = user.add_parser("remove", help="remove a user (their sessions end)")
    remove.add_argument("name")
    set_role = user.add_parser("set-role", help="change a user's role (their sessions end)")
    set_role.add_argument("name")
    set_role.add_argument("role", choices=roles)
    set_password = user.add_parser("set-password", help="change a password (the user's sessions end)")
    set_password.add_argument("name")
    set_password.add_argument("--password-stdin", action="store_true", required=True)
    return top


def read_password(stdin: TextIO) -> str:
    return stdin.readline().rstrip("\r\n")


async def run(args: argparse.Namespace, store: UserStore, *, stdin: TextIO, out: TextIO) -> None:
    if args.command == "add":
        user = await store.add(args.name, role=Role(args.role), password=read_password(stdin))
        print(f"added {user.name} ({user.role.value})", file=out)
    elif args.command == "list":
        for user in await store.list():
            print(f"{user.name}\t{user.role.value}\t{user.created_at.isoformat(timespec='seconds')}", file=out)
    elif args.command == "remove":
        await store.remove(args.name)
        print(f"removed {args.name}", file=out)
    elif args.command == "set-role":
        await store.set_role(args.name, Role(args.role))
        print(f"{args.name} is now {args.role}", file=out)
    elif args.command == "set-password":
        await store.set_password(args.name, read_password(stdin))
        print(f"password of {args.name} changed", file=out)


async def _main(args: argparse.Namespace) -> int:
    client = aioredis.Redis.from_url(os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL)
    try:
        await run(args, UserStore(client), stdin=sys.stdin, out=sys.stdout)
        return 0
    except (UserError, WeakPassword) as exc:
        print(f"oncall-admin: {exc}", file=sys.stderr)
        return 1
    except RedisError as exc:
        print(f"oncall-admin: Redis unavailable ({exc})", file=sys.stderr)
        return 2
    finally:
        await client.aclose()


def main(argv: Sequence[str] | None = None) -> int:
    return asyncio.run(_main(parser().parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
