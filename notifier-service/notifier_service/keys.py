"""The notifier's Redis keys, every one under the configured prefix (`notifier:` by default).

  n:{id}            hash — the notification (status, attempts, payload, message id, …)
  idem:{key}        the id created for an idempotency key (SET NX semantics inside a script)
  due               sorted set id → unix time it may be sent (queued notifications only)
  processing        sorted set id → lease expiry (notifications being sent)
  status:{status}   sorted set id → created time, for listing
  all               sorted set id → created time
  incident:{n}:pending / :next_update / :root — coalescing and threading per incident
  incident:{n}:routed  set when a lane took a notification of the incident (severity routing)
  incident:{n}:thread  chat lanes with threads (Slack Web API, Telegram): the first message's id
  wake              list pushed on every enqueue; the dispatcher blocks on it when idle

Every chat/webhook lane has the same layout under its own prefix, `<prefix>ch:<channel>:`
(lane_prefix below): its own queue, idempotency and coalescing, ids equal to the notification's.

The Lua scripts (lua/*.lua) receive the prefix as ARGV[1] and spell the same names
(`p .. 'n:' .. id`): a name changed here must change there too.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PREFIX = "notifier:"
TRIMMED_INDEXES = ("all", "status:sent", "status:failed", "status:skipped")  # trimmed after the retention period


def lane_prefix(prefix: str, channel: str) -> str:
    return f"{prefix}ch:{channel}:"


@dataclass(frozen=True)
class QueueKeys:
    prefix: str = DEFAULT_PREFIX

    def notification(self, ident: str) -> str:
        return f"{self.prefix}n:{ident}"

    def index(self, status: str | None = None) -> str:
        """The listing index of one status, or of every notification."""
        return f"{self.prefix}status:{status}" if status else f"{self.prefix}all"

    def named(self, name: str) -> str:
        return self.prefix + name

    def routed(self, incident_id: str) -> str:
        return f"{self.prefix}incident:{incident_id}:routed"

    @property
    def due(self) -> str:
        return self.prefix + "due"

    @property
    def processing(self) -> str:
        return self.prefix + "processing"

    @property
    def wake(self) -> str:
        return self.prefix + "wake"
