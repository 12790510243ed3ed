"""Redis key layout.

Per scope and minute (minute = epoch // 60), all under one hash tag so a Redis Cluster keeps
together what one query reads:
  ing:{<kind>:<name>:<minute>}:c        hash: sums (n, e4, e5, ...), s:<status>, t:<term state>,
                                        x:<max field> maxima, hz zero-latency bucket, hk chunk mask
  ing:{<kind>:<name>:<minute>}:h<chunk> hash: sketch key → count, for keys in [chunk*100, chunk*100+99]
Kinds: s (site, name ""), f (frontend), b (backend), v (backend/server).
Names stored: ing:names:<kind> (set). Names admitted under the cap in one hour (epoch // 3600):
ing:{names:<kind>}:adm:<hour> (set, two hours' TTL). Idempotency keys: ing:idem:<sha256>.
Every key carries the retention TTL.
"""

from __future__ import annotations

import hashlib

CHUNK = 100  # sketch keys per bucket hash: stays under Redis' listpack limit (128 fields)
CHUNK_OFFSET = 16  # chunk index + offset = bit in the `hk` mask (chunks -16 .. 15)
OTHER = "__other__"


def scope_tag(kind: str, name: str, minute: int) -> str:
    return f"ing:{{{kind}:{name}:{minute}}}"


def counters_key(kind: str, name: str, minute: int) -> str:
    return scope_tag(kind, name, minute) + ":c"


def chunk_of(sketch_key: int) -> int:
    return max(-CHUNK_OFFSET, min(CHUNK_OFFSET - 1, sketch_key // CHUNK))


def names_key(kind: str) -> str:
    return f"ing:names:{kind}"


def admitted_key(kind: str, hour: int) -> str:
    return f"ing:{{names:{kind}}}:adm:{hour}"


def idempotency_key(client_key: str) -> str:
    return "ing:idem:" + hashlib.sha256(client_key.encode()).hexdigest()[:40]
