"""Which Redis a service talks to: one standalone server (`REDIS_URL`, the default) or a Redis
Cluster (`REDIS_CLUSTER_URLS`, a comma list of `host:port` or `redis://host:port` start nodes, or a
`redis+cluster://host:port[,host:port…]` URL in `REDIS_URL`). Pure parsing: clients are opened
by each service."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

CLUSTER_SCHEME = "redis+cluster"


@dataclass(frozen=True)
class ClusterTarget:
    nodes: tuple[tuple[str, int], ...]  # start nodes: any reachable one reveals the whole cluster
    password: str | None = None
    username: str | None = None


def _node(text: str) -> tuple[str, int, str | None, str | None]:
    text = text.strip()
    if "://" not in text:
        text = "redis://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("redis", CLUSTER_SCHEME) or not parts.hostname:
        raise ValueError(f"cluster node {text!r}: expected host:port or redis://host:port")
    if parts.path not in ("", "/", "/0"):
        raise ValueError(f"cluster node {text!r}: Redis Cluster has only database 0")
    try:
        port = parts.port or 6379
    except ValueError as exc:
        raise ValueError(f"cluster node {text!r}: bad port") from exc
    return parts.hostname, port, parts.username or None, parts.password or None


def cluster_target(cluster_urls: str | None, redis_url: str) -> ClusterTarget | None:
    """The cluster to use, or None for the standalone `redis_url`. Raises ValueError on a bad list."""
    if cluster_urls and cluster_urls.strip():
        items = [x for x in cluster_urls.split(",") if x.strip()]
    elif redis_url.startswith(CLUSTER_SCHEME + "://"):
        rest = redis_url[len(CLUSTER_SCHEME) + 3:]
        creds, _, hosts = rest.rpartition("@")
        items = [(creds + "@" if creds else "") + h for h in hosts.split(",") if h.strip()]
    else:
        return None
    if not items:
        raise ValueError("REDIS_CLUSTER_URLS names no node")
    parsed = [_node(x) for x in items]
    users = {p[2] for p in parsed if p[2]}
    passwords = {p[3] for p in parsed if p[3]}
    if len(users) > 1 or len(passwords) > 1:
        raise ValueError("cluster nodes must share one username and password")
    return ClusterTarget(tuple((h, p) for h, p, _, _ in parsed),
                         password=next(iter(passwords), None), username=next(iter(users), None))
