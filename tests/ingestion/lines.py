"""Formatting LogEntry back into HAProxy httplog lines (for property tests and the benchmark)."""

from __future__ import annotations

from ingestion_service.haproxy import LogEntry
from ingestion_service.haproxy.timestamps import format_accept_date


def format_line(e: LogEntry, *, header: str = "", port: int = 40000, captures: str = "") -> str:
    plus_ta = "+" if e.logasap else ""
    plus_rt = "+" if e.redispatched else ""
    request = f'"{e.method} {e.path}' + ("" if e.truncated else ' HTTP/1.1"')
    caps = f"{captures} " if captures else ""
    return (
        f"{header}{e.client_ip}:{port} [{format_accept_date(round(e.timestamp * 1000))}] {e.frontend} "
        f"{e.backend}/{e.server} {e.time_request_ms}/{e.time_queue_ms}/{e.time_connect_ms}/"
        f"{e.time_response_ms}/{plus_ta}{e.response_time_ms} {e.status_code} {plus_ta}{e.bytes_read} - - "
        f"{e.termination_state} {e.actconn}/{e.feconn}/{e.beconn}/{e.srv_conn}/{plus_rt}{e.retries} "
        f"{e.srv_queue}/{e.backend_queue} {caps}{request}"
    )
