"""Redis key layout.

Per scope and minute (minute = epoch // 60; hour = minute // 60, mm = minute % 60), under the
scope-hour's hash tag, so a Redis Cluster keeps in one slot what one script call reads (a scope's
minutes of one hour: a 24 h window is 25 calls per scope there, one standalone):
  ing:{<kind>:<name>:<hour>}:<mm>:c        hash: sums (n, e4, e5, ...), s:<status>, t:<term state>,
                                           x:<max field> maxima, hz zero-latency bucket, hk chunk mask
  ing:{<kind>:<name>:<hour>}:<mm>:h<chunk> hash: sketch key → count, for keys in [chunk*100, chunk*100+99]
  ing:{<kind>:<name>:<hour>}:<mm>:r        string: the Tr sketch packed (lua/packed_sketch.lua), for
                                           the kinds in signals.aggregate.TR_KINDS
Kinds: s (site, name ""), f (frontend), b (backend), v (backend/server), p (frontend|backend).
Names stored: ing:names:<kind> (set; p since the timers' breakdown). Names admitted under the cap in one hour (epoch // 3600):
ing:{names:<kind>}:adm:<hour> (set, two hours' TTL). Idempotency keys: ing:idem:<sha256>.
On Redis Cluster also, per scope-minute written by a batch with an Idempotency-Key:
  ing:{<kind>:<name>:<hour>}:<mm>:b        hash: batch id → 1, the batches already counted in that slot
Every key carries the retention TTL. (Before the scope-hour tag the prefix was ing:{<kind>:<name>:<minute>};
data written so is not read, and expires with its TTL.)
"""

from __future__ import annotations

import hashlib

from ingestion_service.sketch import ZERO_KEY

CHUNK = 100  # sketch keys per bucket hash: stays under Redis' listpack limit (128 fields)
CHUNK_OFFSET = 16  # chunk index + offset = bit in the `hk` mask (chunks -16 .. 15)
OTHER = "__other__"


def packed_index(sketch_key: int) -> int:
    """Index of a sketch key in a packed sketch: 0 for the zero bucket, key + 1 otherwise (keys of
    whole milliseconds are >= 0)."""
    return 0 if sketch_key == ZERO_KEY else max(sketch_key, 0) + 1


def sketch_key_of(index: int) -> int:
    return ZERO_KEY if index == 0 else index - 1


def hour_of(minute_start: int) -> int:
    """The hour (epoch // 3600) holding a minute given by its start (epoch seconds): its hash tag's."""
    return minute_start // 3600


def scope_prefix(kind: str, name: str, minute: int) -> str:
    """The prefix of one scope-minute's keys (minute = epoch // 60), tagged by its scope-hour."""
    return f"ing:{{{kind}:{name}:{minute // 60}}}:{minute % 60}"


def counters_key(kind: str, name: str, minute: int) -> str:
    return scope_prefix(kind, name, minute) + ":c"


def chunk_of(sketch_key: int) -> int:
    return max(-CHUNK_OFFSET, min(CHUNK_OFFSET - 1, sketch_key // CHUNK))


def names_key(kind: str) -> str:
    return f"ing:names:{kind}"


def admitted_key(kind: str, hour: int) -> str:
    return f"ing:{{names:{kind}}}:adm:{hour}"


def idempotency_key(client_key: str) -> str:
    return "ing:idem:" + hashlib.sha256(client_key.encode()).hexdigest()[:40]


def batch_record_key(kind: str, name: str, minute: int) -> str:
    return scope_prefix(kind, name, minute) + ":b"


def batch_id(client_key: str) -> str:
    """The field naming a batch in the per-slot records: 80 bits of the key's sha256."""
    return hashlib.sha256(client_key.encode()).hexdigest()[:20]
