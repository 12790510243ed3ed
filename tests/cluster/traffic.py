"""Generated HAProxy lines over several minutes, frontends, backends and servers (shared by the
cluster tests and the cluster benchmark)."""

from __future__ import annotations

END = "2026-11-22T14:30:00Z"  # every generated minute lies in the hour before
LINE = ('10.0.0.{c}:4000 [22/Nov/2026:14:{m:02d}:17.032] fe{f} be{b}/app{s} {tq}/{tw}/1/{tr}/{ta} {status} 185 - - '
        '{term} {ac}/1/0/{sc}/{rt} 0/{q} "GET /a HTTP/1.1"')
STATUSES = (200, 200, 200, 404, 503, 500)
TERMS = ("----", "----", "CD--", "SH--", "sQ--")


def batch(i: int, size: int) -> str:
    """Batch `i`: `size` lines over up to 20 minutes, 2 frontends, 3 backends of 2 servers."""
    return "\n".join(
        LINE.format(c=j % 250, m=(i + j) % 20, f=j % 2, b=j % 3, s=(i + j) % 2, tq=j % 3, tw=j % 2,
                    tr=j % 97, ta=(j * 7 + i) % 900, status=STATUSES[j % len(STATUSES)],
                    term=TERMS[j % len(TERMS)], ac=j % 40, sc=j % 9, rt=j % 2, q=j % 4)
        for j in range(size))
