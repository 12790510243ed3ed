"""Whatever arrives on POST /logs, the answer is a 2xx/4xx with a reason, never a 500."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingestion_service.app import create_app
from ingestion_service.settings import Settings
from tests.ingestion.lines import format_line
from tests.ingestion.test_parser_properties import entries
from tests.support.servers import serve_app

pytestmark = pytest.mark.real


@pytest.fixture(scope="module")
def base_url(redis_process) -> Iterator[str]:  # type: ignore[no-untyped-def]
    with serve_app(create_app(Settings(redis_url=redis_process.url, parse_workers=0))) as url:
        yield url


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["timestamp", "frontend", "backend", "server", "status_code", "response_time_ms",
                         "bytes_read", "termination_state", "retries", "x"]), children, max_size=8),
    max_leaves=20,
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.sampled_from(["text/plain", "application/json", "application/x-ndjson", "text/plain; charset=utf-8"]),
    st.one_of(
        st.binary(max_size=300),
        st.text(max_size=300).map(str.encode),
        st.lists(entries().map(format_line), max_size=5).map(lambda ls: "\n".join(ls).encode()),
        json_values.map(lambda v: __import__("json").dumps(v).encode()),
    ),
)
def test_post_logs_never_500(base_url: str, content_type: str, body: bytes) -> None:
    r = httpx.post(base_url + "/logs", content=body, headers={"Content-Type": content_type}, timeout=10)
    assert r.status_code in (202, 422), (r.status_code, r.text)
    if r.status_code == 202:
        answer = r.json()
        assert set(answer) == {"accepted", "rejected", "skipped", "errors"}
    else:
        assert r.json()["detail"]
