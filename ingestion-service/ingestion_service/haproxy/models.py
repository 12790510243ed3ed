"""What the parser returns: a request (LogEntry), a non-request line (Skip) or an error."""

from __future__ import annotations

from typing import NamedTuple


class LogEntry(NamedTuple):
    """One HAProxy request. Timers are milliseconds, -1 where HAProxy did not reach that step."""

    timestamp: float  # accept date, epoch seconds UTC (header offset, else ParseOptions.timezone)
    frontend: str
    backend: str
    server: str
    status_code: int  # -1 when HAProxy logged none
    response_time_ms: int  # Ta (total active time)
    time_request_ms: int = -1  # TR
    time_queue_ms: int = -1  # Tw
    time_connect_ms: int = -1  # Tc
    time_response_ms: int = -1  # Tr
    bytes_read: int = 0
    termination_state: str = "----"
    actconn: int = 0
    feconn: int = 0
    beconn: int = 0
    srv_conn: int = 0
    retries: int = 0
    srv_queue: int = 0
    backend_queue: int = 0
    method: str = ""
    path: str = ""
    client_ip: str = ""
    logasap: bool = False  # `+` before Ta / bytes (option logasap)
    redispatched: bool = False  # `+` before retries (option redispatch)
    truncated: bool = False  # request line cut (no closing quote)
    tcp: bool = False  # `option tcplog`: a TCP session (status -1, response_time_ms = Tt)


class ParseOptions(NamedTuple):
    """How lines are read: the zone of headerless local accept dates, and an optional custom
    `log-format` (as in haproxy.cfg) tried before HAProxy's own layouts."""

    timezone: str = "UTC"
    log_format: str | None = None


DEFAULT_OPTIONS = ParseOptions()


class Skip(NamedTuple):
    """A line HAProxy emits that is not a request (server state, proxy start): not an error."""

    reason: str


class ParseError(NamedTuple):
    reason: str


ParseResult = LogEntry | Skip | ParseError
