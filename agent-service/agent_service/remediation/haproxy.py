"""HAProxy's Runtime API over its stats socket (`stats socket … level admin`): one command per
connection (HAProxy's non-interactive mode answers and closes), on every configured HAProxy.

HAPROXY_RUNTIME_SOCKETS: comma-separated `unix:/path` or `tcp:host:port`, each optionally named
`name=` (`lb1=tcp:10.0.0.5:9999`). An action runs on each socket: the previous value read, the
command sent (or, dry-run, only shown), the inverse recorded for undo. A socket error is a failed
step with its reason, never an exception out of here."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from agent_service.remediation.models import AnyProposal, Execution, RuntimeStep
from agent_service.remediation.runtime_commands import RuntimeAnswerError, plan

MAX_ANSWER_BYTES = 1024 * 1024
_TCP = re.compile(r"^(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(?P<port>\d{1,5})$")
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@dataclass(frozen=True)
class RuntimeSocket:
    name: str
    kind: str  # "unix" | "tcp"
    where: str  # as configured: unix:/path or tcp:host:port
    path: str = ""
    host: str = ""
    port: int = 0

    @property
    def label(self) -> str:
        return self.where if self.name == self.where else f"{self.name}={self.where}"


def parse_sockets(setting: str) -> list[RuntimeSocket]:
    """HAPROXY_RUNTIME_SOCKETS → sockets; ValueError naming the bad entry (settings fail fast)."""
    out: list[RuntimeSocket] = []
    for raw in (part.strip() for part in setting.split(",")):
        if not raw:
            continue
        name, _, where = raw.partition("=") if "=" in raw.split(":", 1)[0] else ("", "", raw)
        if name and not _NAME.match(name):
            raise ValueError(f"HAPROXY_RUNTIME_SOCKETS: bad name {name[:40]!r}")
        kind, _, rest = where.partition(":")
        if kind == "unix" and rest.startswith("/"):
            out.append(RuntimeSocket(name or where, "unix", where, path=rest))
            continue
        match = _TCP.match(rest) if kind == "tcp" else None
        if match is None or not 0 < int(match["port"]) < 65536:
            raise ValueError(f"HAPROXY_RUNTIME_SOCKETS: {raw[:80]!r} is not unix:/path or tcp:host:port")
        out.append(RuntimeSocket(name or where, "tcp", where, host=match["host"].strip("[]"), port=int(match["port"])))
    names = [s.name for s in out]
    if len(set(names)) != len(names):
        raise ValueError("HAPROXY_RUNTIME_SOCKETS: each socket once (names must differ)")
    return out


class RuntimeClient:
    def __init__(self, sockets: Sequence[RuntimeSocket], *, timeout_s: float = 3.0) -> None:
        self.sockets = tuple(sockets)
        self.timeout_s = timeout_s

    async def send(self, socket: RuntimeSocket, command: str) -> str:
        """One command, HAProxy's whole answer (it closes the connection after it)."""
        return await asyncio.wait_for(self._send(socket, command), self.timeout_s)

    async def _send(self, socket: RuntimeSocket, command: str) -> str:
        if socket.kind == "unix":
            reader, writer = await asyncio.open_unix_connection(socket.path)
        else:
            reader, writer = await asyncio.open_connection(socket.host, socket.port)
        try:
            writer.write(command.encode() + b"\n")
            await writer.drain()
            data = await reader.read(MAX_ANSWER_BYTES)
            chunks = [data]
            while data and sum(map(len, chunks)) < MAX_ANSWER_BYTES:
                data = await reader.read(MAX_ANSWER_BYTES)
                chunks.append(data)
            return b"".join(chunks).decode(errors="replace")
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass

    async def _step(self, socket: RuntimeSocket, p: AnyProposal) -> RuntimeStep:
        steps = plan(p)
        assert steps is not None
        try:
            previous = steps.previous(await self.send(socket, steps.read))
            answer = (await self.send(socket, steps.send)).strip()
        except (OSError, TimeoutError, RuntimeAnswerError) as exc:
            return RuntimeStep(socket=socket.label, command=steps.send, ok=False, error=_reason(exc))
        step = RuntimeStep(socket=socket.label, command=steps.send, previous=previous,
                           undo_command=steps.inverse(previous), answer=answer[:500])
        if answer:  # a `set` that worked answers nothing; anything else is HAProxy's refusal
            return step.model_copy(update={"ok": False, "error": f"HAProxy answered: {answer[:300]}",
                                           "undo_command": None})
        return step

    async def apply(self, p: AnyProposal, *, dry_run: bool) -> Execution:
        """The proposal on every socket; dry run: the exact commands, nothing sent or read."""
        steps = plan(p)
        if steps is None:
            return Execution(at=_now(), dry_run=dry_run, ok=False, error=f"{p.type} is not a Runtime API action")
        if dry_run:
            return Execution(at=_now(), dry_run=True, ok=True, steps=[
                RuntimeStep(socket=s.label, command=steps.send, undo_command=None) for s in self.sockets])
        done = list(await asyncio.gather(*(self._step(s, p) for s in self.sockets)))
        failed = [s for s in done if not s.ok]
        error = "; ".join(f"{s.socket}: {s.error}" for s in failed) or None
        return Execution(at=_now(), dry_run=False, ok=not failed and bool(done), steps=done,
                         error=error if done else "no HAProxy runtime socket configured")

    async def revert(self, execution: Execution) -> Execution:
        """Each step that worked, restored on its own socket with the value read before it."""
        by_label = {s.label: s for s in self.sockets}
        done: list[RuntimeStep] = []
        for step in execution.steps:
            if not (step.ok and step.undo_command):
                continue
            socket = by_label.get(step.socket)
            if socket is None:
                done.append(RuntimeStep(socket=step.socket, command=step.undo_command, ok=False,
                                        error="that socket is no longer configured"))
                continue
            try:
                answer = (await self.send(socket, step.undo_command)).strip()
            except (OSError, TimeoutError) as exc:
                done.append(RuntimeStep(socket=step.socket, command=step.undo_command, ok=False, error=_reason(exc)))
                continue
            done.append(RuntimeStep(socket=step.socket, command=step.undo_command, answer=answer[:500], ok=not answer,
                                    error=f"HAProxy answered: {answer[:300]}" if answer else None))
        failed = [s for s in done if not s.ok]
        return Execution(at=_now(), dry_run=False, ok=not failed and bool(done), steps=done,
                         error="; ".join(f"{s.socket}: {s.error}" for s in failed) or (None if done else "nothing to undo"))


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "HAProxy did not answer in time"
    return f"{type(exc).__name__}: {exc}"[:300]


def _now() -> datetime:
    return datetime.now(UTC)
