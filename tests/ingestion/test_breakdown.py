"""Server time apart from client time: Tr/Tc/Tw, retries, redispatches and client aborts per scope,
through /metrics/breakdown, /metrics/response-times and /metrics/backends on a real redis-server."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from ingestion_service.app import create_app
from ingestion_service.settings import Settings
from tests.support.servers import serve_app

pytestmark = pytest.mark.real
END = "2026-11-22T14:10:00Z"  # window 5m: 14:05..14:09; baseline 10m: 13:55..14:04


def _line(hms: str, fe: str, be_srv: str, timers: str, status: int, term: str, retries: str = "0") -> str:
    return (f"10.0.0.1:4000 [22/Nov/2026:{hms}.000] {fe} {be_srv} {timers} {status} 185 - - {term} "
            f"1/1/0/0/{retries} 0/0 \"GET /a HTTP/1.1\"")


# TR/Tw/Tc/Tr/Ta. fe_a → be_x (x1, x2), fe_b → be_y (y1).
WINDOW_LINES = [
    _line("14:05:01", "fe_a", "be_x/x1", "0/0/1/10/12", 200, "----"),
    _line("14:05:02", "fe_a", "be_x/x1", "0/0/2/20/23", 200, "----"),
    _line("14:06:03", "fe_a", "be_x/x2", "0/5/3/-1/5008", 503, "sC--", "+2"),  # queued, redispatched, no Tr
    _line("14:07:04", "fe_a", "be_x/x2", "0/0/4/40/30040", 200, "cD--"),  # the client went away
    _line("14:08:05", "fe_b", "be_y/y1", "0/0/1/100/101", 200, "----", "1"),
    _line("14:08:06", "fe_b", "be_y/y1", "0/0/1/200/202", 404, "CD--"),
]
BASELINE_LINES = [
    _line("13:58:00", "fe_a", "be_x/x1", "0/0/1/10/11", 200, "----"),
    _line("14:04:59", "fe_b", "be_y/y1", "0/0/2/50/52", 500, "SH--"),
]
OUTSIDE = [_line("13:50:00", "fe_a", "be_x/x1", "0/0/9/999/999", 200, "----")]


@pytest.fixture
def api(redis_url: str) -> Iterator[httpx.Client]:
    settings = Settings(redis_url=redis_url, parse_workers=0)
    with serve_app(create_app(settings)) as url, httpx.Client(base_url=url, timeout=10) as client:
        r = client.post("/logs", content="\n".join(WINDOW_LINES + BASELINE_LINES + OUTSIDE),
                        headers={"Content-Type": "text/plain"})
        assert r.status_code == 202 and r.json()["accepted"] == 9, r.text
        yield client


def _get(api: httpx.Client, **params: str) -> dict:  # type: ignore[type-arg]
    r = api.get("/metrics/breakdown", params={"window": "5m", "baseline": "10m", "end": END, **params})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def _names(body: dict) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return [(s["kind"], s["name"]) for s in body["scopes"]]


def test_breakdown_site_stats_and_minutes_are_exact(api: httpx.Client) -> None:
    body = _get(api)
    assert body["window"] == {"start": "2026-11-22T14:05:00Z", "end": "2026-11-22T14:10:00Z", "seconds": 300}
    assert body["baseline"] == {"start": "2026-11-22T13:55:00Z", "end": "2026-11-22T14:05:00Z", "seconds": 600}
    assert _names(body) == [("site", ""), ("frontend", "fe_a"), ("frontend", "fe_b"), ("backend", "be_x"),
                            ("backend", "be_y"), ("server", "be_x/x1"), ("server", "be_x/x2"), ("server", "be_y/y1")]
    site = body["scopes"][0]
    assert (site["backend"], site["server"], site["routes"]) == (None, None, [])
    w = site["window"]
    assert {k: w[k] for k in ("requests", "errors_4xx", "errors_5xx", "retries", "retried_requests",
                              "redispatches", "queued", "client_aborts")} == {
        "requests": 6, "errors_4xx": 1, "errors_5xx": 1, "retries": 3, "retried_requests": 2,
        "redispatches": 1, "queued": 1, "client_aborts": 2}
    assert w["status_codes"] == {"200": 4, "404": 1, "503": 1}
    assert w["terminations"] == {"----": 3, "CD--": 1, "cD--": 1, "sC--": 1}
    assert (w["max_srv_queue"], w["max_backend_queue"], w["max_actconn"], w["max_srv_conn"]) == (0, 0, 1, 0)
    assert w["ta"]["count"] == 6 and w["ta"]["max_ms"] == 30040
    assert w["ta"]["mean_ms"] == pytest.approx(35386 / 6, abs=0.001)
    assert w["ta"]["p50_ms"] == pytest.approx(101, rel=0.01)  # rank floor(0.5 * 5) = 2 of 12, 23, 101, 202, ...
    tr = w["tr"]  # the site's Tr: the merge of every backend's sketch
    assert tr["count"] == 5 and tr["max_ms"] == 200 and tr["mean_ms"] == 74.0
    assert tr["p50_ms"] == pytest.approx(40, rel=0.01) and tr["p99_ms"] == pytest.approx(100, rel=0.01)
    assert (w["tc_mean_ms"], w["tc_max_ms"], w["tw_mean_ms"]) == (2.0, 4.0, pytest.approx(5 / 6, abs=0.001))
    m = site["window_minutes"]
    assert m["start"] == "2026-11-22T14:05:00Z"
    assert m["requests"] == [2, 1, 1, 2, 0]
    assert m["errors_4xx"] == [0, 0, 0, 1, 0] and m["errors_5xx"] == [0, 1, 0, 0, 0]
    assert m["retries"] == [0, 2, 0, 1, 0] and m["redispatches"] == [0, 1, 0, 0, 0] and m["queued"] == [0, 1, 0, 0, 0]
    assert m["client_aborts"] == [0, 0, 1, 1, 0] and m["server_failures"] == [0, 1, 0, 0, 0]
    assert m["ta_mean_ms"] == [17.5, 5008.0, 30040.0, 151.5, None]
    assert m["tr_mean_ms"] == [15.0, None, 40.0, 150.0, None]  # 14:06 had no Tr (-1)
    b = site["baseline"]
    assert (b["requests"], b["errors_5xx"], b["terminations"], b["tr"]["count"]) == (2, 1, {"----": 1, "SH--": 1}, 2)
    bm = site["baseline_minutes"]
    assert bm["start"] == "2026-11-22T13:55:00Z" and len(bm["requests"]) == 10
    assert bm["requests"] == [0, 0, 0, 1, 0, 0, 0, 0, 0, 1] and bm["server_failures"][-1] == 1


def test_breakdown_frontends_backends_servers(api: httpx.Client) -> None:
    scopes = {s["name"]: s for s in _get(api)["scopes"]}
    fe_a, be_x, x2, y1 = scopes["fe_a"], scopes["be_x"], scopes["be_x/x2"], scopes["be_y/y1"]
    assert (fe_a["routes"], fe_a["backend"], scopes["fe_b"]["routes"]) == (["be_x"], None, ["be_y"])
    assert (be_x["routes"], be_x["backend"], be_x["server"]) == (["fe_a"], "be_x", None)
    assert (x2["backend"], x2["server"], x2["routes"]) == ("be_x", "x2", [])
    assert fe_a["window"]["requests"] == 4 and fe_a["window"]["client_aborts"] == 1
    # be_x serves fe_a only: fe_a's Tr is be_x's
    assert fe_a["window"]["tr"]["p50_ms"] == pytest.approx(20, rel=0.01) and fe_a["window"]["tr"]["count"] == 3
    assert be_x["window"]["tr"]["p95_ms"] == pytest.approx(20, rel=0.01)  # rank floor(0.95 * 2) of 10, 20, 40
    assert be_x["window"]["tr"]["max_ms"] == 40 and be_x["window"]["tc_max_ms"] == 4.0
    assert (be_x["window"]["retries"], be_x["window"]["redispatches"], be_x["window"]["retried_requests"]) == (2, 1, 1)
    w = x2["window"]  # servers keep no Tr sketch: count, mean and max only
    assert (w["requests"], w["queued"], w["redispatches"], w["client_aborts"]) == (2, 1, 1, 1)
    assert w["tr"] == {"count": 1, "p50_ms": None, "p90_ms": None, "p95_ms": None, "p99_ms": None,
                       "max_ms": 40.0, "mean_ms": 40.0}
    assert w["ta"]["p95_ms"] == pytest.approx(5008, rel=0.01)
    assert y1["window"]["retries"] == 1 and y1["window"]["redispatches"] == 0
    assert scopes["be_x/x1"]["baseline"]["requests"] == 1  # 13:50 is before the baseline
    assert scopes["be_x/x1"]["window_minutes"]["tr_mean_ms"] == [15.0, None, None, None, None]


def test_breakdown_filters_and_baseline_end(api: httpx.Client) -> None:
    assert _names(_get(api, backend="be_y")) == [("site", ""), ("frontend", "fe_b"), ("backend", "be_y"),
                                                 ("server", "be_y/y1")]
    body = _get(api, frontend="fe_a")
    assert _names(body) == [("site", ""), ("frontend", "fe_a"), ("backend", "be_x"), ("server", "be_x/x1"),
                            ("server", "be_x/x2")]
    assert body["scopes"][0]["window"]["requests"] == 6  # the site stays whole
    both = _get(api, backend="be_x", frontend="fe_a")
    assert _names(both) == [("site", ""), ("frontend", "fe_a"), ("backend", "be_x"), ("server", "be_x/x1"),
                            ("server", "be_x/x2")]
    unknown = _get(api, backend="be_none")
    assert _names(unknown) == [("site", ""), ("backend", "be_none")]
    assert unknown["scopes"][1]["window"]["requests"] == 0 and unknown["scopes"][1]["window"]["ta"]["p50_ms"] is None
    early = _get(api, baseline="5m", baseline_end="2026-11-22T14:00:00Z")
    assert early["baseline"] == {"start": "2026-11-22T13:55:00Z", "end": "2026-11-22T14:00:00Z", "seconds": 300}
    site = early["scopes"][0]
    assert site["baseline"]["requests"] == 1 and site["baseline_minutes"]["requests"] == [0, 0, 0, 1, 0]
    # the defaults: a 15m window, a 60m baseline ending where the window starts
    body = api.get("/metrics/breakdown", params={"end": END}).json()
    assert body["window"]["seconds"] == 900 and body["baseline"] == {
        "start": "2026-11-22T12:55:00Z", "end": "2026-11-22T13:55:00Z", "seconds": 3600}
    assert body["scopes"][0]["window"]["requests"] == 8 and body["scopes"][0]["baseline"]["requests"] == 1


@pytest.mark.parametrize(("params", "param"), [
    ({"baseline": "0m"}, "baseline"), ({"baseline": "25h"}, "baseline"), ({"baseline": "abc"}, "baseline"),
    ({"baseline_end": "yesterday"}, "baseline_end"), ({"baseline_end": "1999-01-01T00:00:00Z"}, "baseline_end"),
    ({"end": "2100-01-01T00:00:00Z"}, "end"), ({"window": "90x"}, "window"),
])
def test_breakdown_rejects_bad_dates_and_spans(api: httpx.Client, params: dict[str, str], param: str) -> None:
    r = api.get("/metrics/breakdown", params={"end": END, **params})
    assert r.status_code == 422, r.text
    assert param in str(r.json()["detail"])


def test_response_times_and_backends_carry_tr_and_retries(api: httpx.Client) -> None:
    site = api.get("/metrics/response-times", params={"window": "5m", "end": END}).json()
    assert site["count"] == 6 and site["tr"]["count"] == 5 and site["tr"]["max_ms"] == 200
    assert site["tr"]["p50_ms"] == pytest.approx(40, rel=0.01)
    fe_a = api.get("/metrics/response-times", params={"window": "5m", "end": END, "frontend": "fe_a"}).json()
    assert fe_a["tr"]["p95_ms"] == pytest.approx(20, rel=0.01)
    rows = {b["name"]: b for b in api.get("/metrics/backends", params={"window": "5m", "end": END}).json()["backends"]}
    x = rows["be_x"]
    assert (x["retries"], x["redispatches"], x["client_aborts"]) == (2, 1, 1)
    assert x["tr_p95_ms"] == pytest.approx(20, rel=0.01)
    servers = {s["name"]: s for s in x["servers"]}
    assert (servers["x2"]["retries"], servers["x2"]["redispatches"], servers["x2"]["client_aborts"]) == (2, 1, 1)
    assert servers["x2"]["tr_p95_ms"] is None and servers["x1"]["retries"] == 0
    assert rows["be_y"]["client_aborts"] == 1 and rows["be_y"]["retries"] == 1
    empty = api.get("/metrics/response-times", params={"window": "5m", "end": "2026-11-22T16:00:00Z"}).json()
    assert empty["tr"] == {"count": 0, "p50_ms": None, "p95_ms": None, "p99_ms": None, "max_ms": None}


def test_a_backend_shared_by_two_frontends_leaves_their_tr_unknown(redis_url: str) -> None:
    settings = Settings(redis_url=redis_url, parse_workers=0)
    lines = [_line("14:05:01", "fe_a", "be_x/x1", "0/0/1/10/12", 200, "----"),
             _line("14:05:02", "fe_b", "be_x/x1", "0/0/1/30/33", 200, "----")]
    with serve_app(create_app(settings)) as url, httpx.Client(base_url=url, timeout=10) as api:
        assert api.post("/logs", content="\n".join(lines), headers={"Content-Type": "text/plain"}).status_code == 202
        fe = api.get("/metrics/response-times", params={"window": "5m", "end": END, "frontend": "fe_a"}).json()
        assert fe["tr"]["count"] == 1 and fe["tr"]["p50_ms"] is None and fe["tr"]["max_ms"] == 10
        scopes = {s["name"]: s for s in _get(api)["scopes"]}
        assert scopes["be_x"]["routes"] == ["fe_a", "fe_b"] and scopes["fe_a"]["window"]["tr"]["p50_ms"] is None
        assert scopes[""]["window"]["tr"]["p50_ms"] == pytest.approx(10, rel=0.01)


def test_servers_over_the_name_cap_leave_backend_stats_exact(redis_url: str) -> None:
    """be_x/x2 and be_y/y1 fold into the `__other__` server: be_x's Ta is read from its own buckets,
    not from its servers' (which no longer add up)."""
    settings = Settings(redis_url=redis_url, parse_workers=0, server_name_cap=1)
    with serve_app(create_app(settings)) as url, httpx.Client(base_url=url, timeout=10) as api:
        for batch in (WINDOW_LINES[:1], WINDOW_LINES[1:]):  # be_x/x1 first: it takes the one slot
            r = api.post("/logs", content="\n".join(batch), headers={"Content-Type": "text/plain"})
            assert r.status_code == 202
        scopes = {s["name"]: s for s in _get(api)["scopes"]}
        assert [n for n in scopes if n.startswith("be_x/") or n == "__other__"] == ["be_x/x1", "__other__"]
        other = scopes["__other__"]
        assert (other["kind"], other["backend"], other["server"]) == ("server", None, "__other__")
        assert other["window"]["requests"] == 4
        be_x = scopes["be_x"]["window"]
        assert be_x["requests"] == 4 and be_x["ta"]["count"] == 4
        assert be_x["ta"]["p99_ms"] == pytest.approx(5008, rel=0.01)  # rank floor(0.99 * 3) of 12, 23, 5008, 30040
        assert scopes[""]["window"]["ta"]["p50_ms"] == pytest.approx(101, rel=0.01)
        assert _names(_get(api, backend="be_x")) == [("site", ""), ("frontend", "fe_a"), ("backend", "be_x"),
                                                     ("server", "be_x/x1")]
