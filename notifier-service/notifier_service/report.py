"""The report's markdown for an email: safe HTML and phone-friendly plain text (pure).

The markdown is untrusted (it quotes log lines and alert labels): raw HTML is escaped, images
are off (no remote loads from an inbox), and a link stays a link only when it points at one of
the origins the caller allows (the notification's own `url` and the alert links the agent passed
along); any other `[text](target)` or `<target>` is shown as the text it was written as. The
input is cut at `MAX_REPORT_CHARS` with a marker, so rendering time is bounded. Tables —
the findings table — become one stacked card per row, because a five-column table does not fit
a phone's width; in the plain-text part each row becomes an indented block.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.token import Token

_SAFE_SCHEMES = ("http://", "https://")
MAX_REPORT_CHARS = 100_000
CARD_STYLE = "border:1px solid #d0d7de;border-radius:6px;padding:8px 10px;margin:0 0 8px 0;"


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable("table")
    md.disable("image")
    md.validateLink = lambda url: url.strip().lower().startswith(_SAFE_SCHEMES)  # type: ignore[method-assign]
    return md


_MD = _parser()


@dataclass(frozen=True)
class RenderedReport:
    html: str
    text: str


@dataclass(frozen=True)
class _Table:
    start: int  # index of table_open in the token list
    end: int  # index of table_close
    lines: tuple[int, int]
    header: list[Token]
    rows: list[list[Token]]


def _tables(tokens: list[Token]) -> list[_Table]:
    found: list[_Table] = []
    i = 0
    while i < len(tokens):
        if tokens[i].type != "table_open":
            i += 1
            continue
        start, header, rows, row, in_head = i, [], [], [], False
        while tokens[i].type != "table_close":
            tok = tokens[i]
            if tok.type == "thead_open":
                in_head = True
            elif tok.type == "thead_close":
                in_head = False
            elif tok.type == "tr_open":
                row = []
            elif tok.type == "inline":
                row.append(tok)
            elif tok.type == "tr_close":
                (header.extend(row) if in_head else rows.append(row))
            i += 1
        span = tokens[start].map or [0, 0]
        found.append(_Table(start, i, (span[0], span[1]), header, rows))
        i += 1
    return found


def _inline_html(token: Token) -> str:
    return _MD.renderer.renderInline(token.children or [], _MD.options, {})


def _card_html(table: _Table) -> str:
    cards = []
    names = [_inline_html(cell) for cell in table.header]
    for row in table.rows:
        cells = [_inline_html(cell) for cell in row]
        if not cells:
            continue
        lines = [f'<div style="font-weight:bold;margin-bottom:4px">{cells[0]}</div>']
        for name, value in zip(names[1:], cells[1:]):
            if value.strip():
                lines.append(f'<div><span style="color:#57606a">{name}:</span> {value}</div>')
        cards.append(f'<div style="{CARD_STYLE}">{"".join(lines)}</div>')
    return "\n".join(cards) + "\n"


def _card_text(table: _Table) -> list[str]:
    names = [cell.content.strip() for cell in table.header]
    out: list[str] = []
    for row in table.rows:
        cells = [cell.content.strip() for cell in row]
        if not cells:
            continue
        out.append(f"* {cells[0]}")
        out.extend(f"    {name}: {value}" for name, value in zip(names[1:], cells[1:]) if value)
        out.append("")
    return out


def origin(url: str) -> str | None:
    """scheme://host[:port] of an http(s) URL, lower case; None for anything else."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return f"{parts.scheme.lower()}://{parts.hostname.lower()}" + (f":{port}" if port else "")


def _unlink(tokens: list[Token], allowed: frozenset[str]) -> None:
    """Links to a foreign origin become the text they were written as (in place)."""
    for block in tokens:
        children = block.children or []
        for i, tok in enumerate(children):
            if tok.type != "link_open" or origin(str(tok.attrGet("href") or "")) in allowed:
                continue
            depth, j = 0, i
            while j < len(children):
                if children[j].type == "link_open":
                    depth += 1
                elif children[j].type == "link_close":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            autolink = tok.markup == "autolink"
            href = str(tok.attrGet("href") or "")
            children[i] = Token("text", "", 0, content="<" if autolink else "[")
            if j < len(children):
                children[j] = Token("text", "", 0, content=">" if autolink else f"]({href})")


def cap(markdown: str) -> str:
    if len(markdown) <= MAX_REPORT_CHARS:
        return markdown
    cut = len(markdown) - MAX_REPORT_CHARS
    return markdown[:MAX_REPORT_CHARS] + f"\n\n*(report truncated: {cut} more characters not shown)*\n"


def render_report(markdown: str, *, allowed_links: Iterable[str] = ()) -> RenderedReport:
    """Render the report; links survive only towards the origins of `allowed_links`."""
    if not markdown.strip():
        return RenderedReport(html="", text="")
    markdown = cap(markdown)
    tokens = _MD.parse(markdown)
    _unlink(tokens, frozenset(o for o in map(origin, allowed_links) if o))
    tables = _tables(tokens)
    html_parts: list[str] = []
    cursor = 0
    for table in tables:
        html_parts.append(_MD.renderer.render(tokens[cursor : table.start], _MD.options, {}))
        html_parts.append(_card_html(table))
        cursor = table.end + 1
    html_parts.append(_MD.renderer.render(tokens[cursor:], _MD.options, {}))

    source = markdown.splitlines()
    text_lines: list[str] = []
    line = 0
    for table in tables:
        text_lines.extend(source[line : table.lines[0]])
        text_lines.extend(_card_text(table))
        line = table.lines[1]
    text_lines.extend(source[line:])
    return RenderedReport(html="".join(html_parts), text="\n".join(text_lines).strip() + "\n")

