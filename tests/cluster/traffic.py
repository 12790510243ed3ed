"""Generated HAProxy lines over several minutes, frontends, backends and servers (shared by the
cluster tests and the cluster benchmark)."""

from __future__ import annotations

END = "2026-11-22T14:20:00Z"  # the generated minutes, 13:50–14:09, lie in the half hour before
LINE = ('10.0.0.{c}:4000 [22/Nov/2026:{h}:{m:02d}:17.032] fe{f} be{b}/app{s} {tq}/{tw}/1/{tr}/{ta} {status} 185 - - '
        '{term} {ac}/1/0/{sc}/{rt} 0/{q} "GET /a HTTP/1.1"')
STATUSES = (200, 200, 200, 404, 503, 500)
TERMS = ("----", "----", "CD--", "SH--", "sQ--")


def batch(i: int, size: int) -> str:
    """Batch `i`: `size` lines over up to 20 minutes across an hour's turn (two hash tags per
    scope on a cluster), 2 frontends, 3 backends of 2 servers."""
    return "\n".join(
        LINE.format(c=j % 250, h=13 + (50 + (i + j) % 20) // 60, m=(50 + (i + j) % 20) % 60,
                    f=j % 2, b=j % 3, s=(i + j) % 2, tq=j % 3, tw=j % 2,
                    tr=j % 97, ta=(j * 7 + i) % 900, status=STATUSES[j % len(STATUSES)],
                    term=TERMS[j % len(TERMS)], ac=j % 40, sc=j % 9, rt=j % 2, q=j % 4)
        for j in range(size))
