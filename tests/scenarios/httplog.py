"""One proxied request as HAProxy 2.x `option httplog` writes it, with or without a syslog header.

Format (HAProxy configuration manual, 8.2.3):
  %ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %{+Q}r
Dates are written in UTC (HAProxy writes local time; the machines this runs on use UTC).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

Style = Literal["raw", "syslog"]
PID = 2217
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True, slots=True)
class Request:
    at: float  # epoch seconds when HAProxy received the request (%tr)
    client_ip: str
    client_port: int
    frontend: str
    backend: str
    server: str  # "<NOSRV>" when no server was reached
    t_request: int  # TR
    t_queue: int  # Tw (-1: never queued)
    t_connect: int  # Tc (-1: never connected)
    t_response: int  # Tr (-1: no response)
    t_active: int  # Ta
    status: int
    bytes_read: int
    termination: str
    actconn: int
    feconn: int
    beconn: int
    srv_conn: int
    retries: int
    srv_queue: int
    backend_queue: int
    method: str  # "<BADREQ>" when HAProxy never got a complete request (path "")
    path: str
    redispatched: bool = False  # `+` before retries (option redispatch)


def accept_date(at: float) -> str:
    moment = datetime.fromtimestamp(at, tz=UTC)
    month = _MONTHS[moment.month - 1]
    return f"{moment.day:02d}/{month}/{moment.year}:{moment:%H:%M:%S}.{moment.microsecond // 1000:03d}"


def syslog_header(at: float) -> str:
    """RFC 3164 header as HAProxy sends it over UDP: <134> = local0.info."""
    moment = datetime.fromtimestamp(at, tz=UTC)
    return f"<134>{_MONTHS[moment.month - 1]} {moment.day:>2} {moment:%H:%M:%S} haproxy[{PID}]: "


def _request_line(r: Request) -> str:
    return f'"{r.method}"' if r.method.startswith("<") else f'"{r.method} {r.path} HTTP/1.1"'


def format_request(r: Request, style: Style = "raw") -> str:
    retries = f"+{r.retries}" if r.redispatched else str(r.retries)
    body = (
        f"{r.client_ip}:{r.client_port} [{accept_date(r.at)}] {r.frontend} {r.backend}/{r.server} "
        f"{r.t_request}/{r.t_queue}/{r.t_connect}/{r.t_response}/{r.t_active} {r.status} {r.bytes_read} "
        f"- - {r.termination} {r.actconn}/{r.feconn}/{r.beconn}/{r.srv_conn}/{retries} "
        f"{r.srv_queue}/{r.backend_queue} {_request_line(r)}"
    )
    return syslog_header(r.at) + body if style == "syslog" else body


def format_message(at: float, text: str, style: Style = "raw") -> str:
    """A non-request line (server state change); ingestion counts it as skipped."""
    return syslog_header(at).replace("<134>", "<133>") + text if style == "syslog" else text
