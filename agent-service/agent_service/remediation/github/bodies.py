"""Titles, labels and bodies of what the copilot files on GitHub (pure).

A body is the incident report markdown (its outside text already escaped by `report/escape.py`),
made safe for GitHub, where markdown does more than in a terminal:
- links: only to GitHub's own hosts (github.com, *.github.com, *.githubusercontent.com, the API's
  host) and to PUBLIC_URL. Any other markdown link keeps its text and loses its target; any other
  bare URL (GitHub links those by itself) is shown in a code span, readable and not clickable;
- raw HTML is shown as text (`<` → `&lt;`), so no `<a>`, `<img>` or comment comes from outside —
  in particular no forged marker of another incident;
- `@name`, `org/repo#12` and `#12` go into code spans: a report must not page GitHub users or
  write cross-references into other issues (`#12` in a report is an incident, not an issue);
- fenced code blocks are left as they are (GitHub links nothing inside them).
The hidden marker `<!-- oncall-copilot incident=N kind=K -->` opens every body: it is how a retried
call finds what an earlier attempt filed.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

MAX_TITLE = 200
MAX_BODY = 60_000  # GitHub refuses bodies over 65,536 characters
MAX_LABEL = 50
BASE_LABELS = ("oncall-copilot", "incident")

_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_MD_LINK = re.compile(r"(!?)(?<!\\)\[((?:\\.|[^\]\\])*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REF_DEF = re.compile(r"^ {0,3}(?<!\\)\[[^\]]+\]:\s*<?(\S+?)>?(\s.*)?$")
_BARE_URL = re.compile(r"(?<![\w/`])(?:https?://|www\.)[^\s<>`]+", re.IGNORECASE)
_HTML = re.compile(r"(?<!\\)<(?=[A-Za-z/!?])")
_MENTION = re.compile(r"(?<![\w@`/\\])@[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:/[A-Za-z0-9_.-]+)?")
_REFERENCE = re.compile(r"(?<![\w`&/\\])(?:[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)?#\d+\b")
_TRAILING = ".,;:!?)]'\""


def marker(incident_id: int, kind: str) -> str:
    return f"<!-- oncall-copilot incident={incident_id} kind={kind} -->"


def safe_title(title: str) -> str:
    flat = " ".join(title.split()) or "oncall-copilot"
    return flat if len(flat) <= MAX_TITLE else flat[: MAX_TITLE - 1].rstrip() + "…"


def labels_for(kind: str, extra: tuple[str, ...] | list[str] = ()) -> list[str]:
    """`oncall-copilot`, `incident`, the type, then the caller's; each a valid GitHub label name."""
    out: list[str] = []
    for raw in (*BASE_LABELS, kind, *extra):
        name = " ".join(raw.replace(",", " ").split())[:MAX_LABEL]
        if name and name.lower() not in {x.lower() for x in out}:
            out.append(name)
    return out


class LinkPolicy:
    """Which URLs a body may link to: GitHub's own and PUBLIC_URL."""

    def __init__(self, *, public_url: str, api_url: str = "https://api.github.com") -> None:
        self.public_url = public_url.rstrip("/")
        self.api_host = (urlsplit(api_url).hostname or "").lower()

    def allows(self, url: str) -> bool:
        if url == self.public_url or url.startswith(self.public_url + "/"):
            return True
        parts = urlsplit(url)
        if parts.scheme != "https":
            return False
        host = (parts.hostname or "").lower()
        return host in {"github.com", self.api_host} or host.endswith((".github.com", ".githubusercontent.com"))

    def _bare(self, match: re.Match[str]) -> str:
        url = match.group(0)
        cut = len(url.rstrip(_TRAILING))
        url, tail = url[:cut], url[cut:]
        return (url if self.allows(url) else f"`{url}`") + tail

    def _link(self, match: re.Match[str]) -> str:
        bang, text, url = match.groups()
        if self.allows(url):
            return match.group(0)
        return f"{text} (link removed)" if not bang else f"{text or 'image'} (image removed)"

    def line(self, text: str) -> str:
        ref = _REF_DEF.match(text)
        if ref and not self.allows(ref.group(1)):
            return "(link definition removed)"
        text = _HTML.sub("&lt;", text)
        # Links first: their targets become placeholders so the bare-URL pass leaves them alone.
        kept: list[str] = []

        def hold(match: re.Match[str]) -> str:
            kept.append(self._link(match))
            return f"\x00{len(kept) - 1}\x00"

        text = _MD_LINK.sub(hold, text)
        text = _BARE_URL.sub(self._bare, text)
        text = _MENTION.sub(lambda m: f"`{m.group(0)}`", text)
        text = _REFERENCE.sub(lambda m: f"`{m.group(0)}`", text)
        return re.sub(r"\x00(\d+)\x00", lambda m: kept[int(m.group(1))], text)


def safe_markdown(markdown: str, policy: LinkPolicy) -> str:
    out: list[str] = []
    fenced = False
    for line in markdown.replace("\x00", "").splitlines():
        if _FENCE.match(line):
            fenced = not fenced
            out.append(line)
        else:
            out.append(line if fenced else policy.line(line))
    if fenced:
        out.append("```")  # an unterminated fence would swallow the footer
    return "\n".join(out)


def body(*, incident_id: int, kind: str, markdown: str, policy: LinkPolicy, note: str = "") -> str:
    """The marker, an optional note of ours (trusted), the report made safe, a link back to the incident."""
    link = f"{policy.public_url}/console/incidents/{incident_id}"
    report = safe_markdown(markdown, policy)
    if len(report) > MAX_BODY:
        report = report[:MAX_BODY].rsplit("\n", 1)[0] + f"\n\n… (report cut; the whole report: {link})"
    head = [marker(incident_id, kind), ""]
    if note:
        head += [note, ""]
    return "\n".join([*head, report, "", "---", f"Filed by oncall-copilot for incident {incident_id}: {link}", ""])
