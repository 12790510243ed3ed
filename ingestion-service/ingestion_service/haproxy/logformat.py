"""A HAProxy `log-format` string (as written in haproxy.cfg) → one compiled regex with named groups.

Standard fields become captures (`%ci`, `%tr`, `%ft`, `%b`, `%s`, `%TR/%Tw/%Tc/%Tr/%Ta`, `%Tt`, `%ST`,
`%B`, `%tsc`/`%ts`, `%ac/%fc/%bc/%sc/%rc`, `%sq/%bq`, `%r`, `%HM`, `%HP`/`%HU`); every other field and
sample fetch (`%[...]`) matches one token. `%{+Q}` quotes are optional in the regex, so `option
httplog clf` and hand-quoted formats read alike. Empty captures (`%hr` without `capture`) and the
space after them may be absent, as HAProxy omits them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NUM = r"[+-]?\d+"
_DATE = r"\d\d/[A-Z][a-z][a-z]/\d{4}:\d\d:\d\d:\d\d(?:\.\d{1,6})?"
_DATE_OFF = _DATE + r"(?: [+-]\d{4})?"
# field → (group name, regex). Timers keep their sign and `+` (logasap) for the caller.
_FIELDS: dict[str, tuple[str, str]] = {
    "ci": ("client", r"[^\s\"]+"), "cp": ("port", r"[^\s\"]+"),
    "t": ("date", _DATE), "tr": ("date", _DATE), "tl": ("date", _DATE_OFF), "trl": ("date", _DATE_OFF),
    "T": ("date", _DATE_OFF), "trg": ("date", _DATE_OFF), "Tl": ("date", _DATE_OFF),
    "ms": ("ms", r"\d{1,3}"),
    "ft": ("frontend", r"[^\s\"]+"), "f": ("frontend", r"[^\s\"]+"),
    "b": ("backend", r"[^\s\"/]+"), "s": ("server", r"[^\s\"]+"),
    "TR": ("tr", _NUM), "Tq": ("tr", _NUM), "Tw": ("tw", _NUM), "Tc": ("tc", _NUM), "Tr": ("tres", _NUM),
    "Ta": ("ta", _NUM), "Tt": ("tt", _NUM),
    "ST": ("status", r"-?\d+"), "B": ("bytes", r"\+?\d+"),
    "tsc": ("term", r"[^\s\"]{1,4}"), "ts": ("term", r"[^\s\"]{1,2}"),
    "ac": ("actconn", r"\d+"), "fc": ("feconn", r"\d+"), "bc": ("beconn", r"\d+"), "sc": ("srv_conn", r"\d+"),
    "rc": ("retries", r"\+?\d+"), "sq": ("srv_queue", r"\d+"), "bq": ("backend_queue", r"\d+"),
    "HM": ("method", r"[^\s\"]+"), "HP": ("path", r"[^\s\"]+"), "HU": ("path", r"[^\s\"]+"),
}
_OPTIONAL = frozenset({"hr", "hs", "hrl", "hsl"})  # may be empty and then omitted
_TOKEN = re.compile(r"%(?:\{([^}]*)\})?(?:\(([^)]*)\))?(\[[^\]]*\]|[A-Za-z]+|%)")


class FormatError(ValueError):
    """The log-format string cannot be compiled (→ settings refuse to start)."""


@dataclass(frozen=True)
class CompiledFormat:
    source: str
    regex: re.Pattern[str]
    tcp: bool  # no HTTP status: each line is a TCP session


def _field_regex(name: str, quoted: bool, seen: set[str]) -> str:
    if name == "%":
        return "%"
    if name.startswith("["):
        return r'(?:"[^"]*"|\S*)'
    if name == "r":
        return r'"(?P<request>[^"]*)"?' if quoted else r"(?P<request>\S+(?: \S+){0,2})"
    if name in _OPTIONAL:
        return r'(?:\{[^}]*\}|"[^"]*")'
    group, body = _FIELDS.get(name, ("", r'(?:"[^"]*"|\S*)'))
    if not group or group in seen:
        return body if not group else f"(?:{body})"
    seen.add(group)
    return f'"?(?P<{group}>{body})"?'


def compile_format(text: str) -> CompiledFormat:
    """Compile `text` (as in haproxy.cfg: `\\"` and `\\ ` escapes allowed)."""
    fmt = text.strip().replace('\\"', '"').replace("\\ ", " ")
    if not fmt:
        raise FormatError("log-format is empty")
    parts: list[str] = []
    seen: set[str] = set()
    quoted = False
    pos = 0
    for m in _TOKEN.finditer(fmt):
        literal = fmt[pos:m.start()]
        parts.append(re.escape(literal).replace(r"\ ", " +"))
        pos = m.end()
        opts, _label, name = m.group(1) or "", m.group(2), m.group(3)
        if name == "o":  # `%{+Q}o`: sets the options of every following field
            quoted = "+Q" in opts or (quoted and "-Q" not in opts)
            if fmt[pos:pos + 1] == " ":
                pos += 1
            continue
        field_quoted = ("+Q" in opts) or (quoted and "-Q" not in opts)
        piece = _field_regex(name, field_quoted, seen)
        if name in _OPTIONAL:
            if parts[-1].endswith(" +"):  # an omitted capture leaves no space before it at the end
                parts[-1] = parts[-1][:-2] + " *"
            if fmt[pos:pos + 1] == " ":
                piece, pos = f"(?:{piece} )?", pos + 1
        parts.append(piece)
    parts.append(re.escape(fmt[pos:]).replace(r"\ ", " +"))
    missing = [g for g in ("date", "frontend") if g not in seen]
    if missing:
        raise FormatError("log-format needs %tr or %t (the date) and %ft (the frontend); missing: "
                          + ", ".join(missing))
    tcp = "status" not in seen
    if tcp and "tt" not in seen:
        raise FormatError("log-format needs %ST (HTTP) or %Tt (TCP)")
    if not tcp and "ta" not in seen and "tt" not in seen:
        raise FormatError("log-format needs %Ta (or %Tt) for the response time")
    try:
        regex = re.compile("".join(parts) + r"(?: .*)?$", re.ASCII)
    except re.error as exc:
        raise FormatError(f"log-format does not compile: {exc}") from exc
    return CompiledFormat(text, regex, tcp)


# HAProxy's own layouts, as its manual defines them (doc/configuration.txt, "Log formats").
HTTPLOG_CLF = ('%{+Q}o %{-Q}ci - - [%trg] %r %ST %B "" "" %cp %ms %ft %b %s %TR %Tw %Tc %Tr %Ta %tsc '
               '%ac %fc %bc %sc %rc %sq %bq %CC %CS %hrl %hsl')
TCPLOG = "%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq"
TCPLOG_CLF = ('%{+Q}o %{-Q}ci - - [%T] "TCP " 000 %B "" "" %cp %ms %ft %b %s 0 %Tw %Tc %Tt 0 %ts '
              '%ac %fc %bc %sc %rc %sq %bq "" "" "" ""')
# Elastic's documented variant: the host (%[capture.req.hdr(0)]) after backend/server.
HTTPLOG_HOST = ("%ci:%cp [%tr] %ft %b/%s %[capture.req.hdr(0)] %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc "
                "%ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r")
BUILTIN = tuple(compile_format(f) for f in (HTTPLOG_CLF, TCPLOG, TCPLOG_CLF, HTTPLOG_HOST))
