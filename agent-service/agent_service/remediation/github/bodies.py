r"""Titles, labels and bodies of what the copilot files on GitHub (pure).

A body is the incident report markdown (its outside text already escaped by `report/escape.py`),
made safe for GitHub, where markdown does more than in a terminal:
- links: only to GitHub's own hosts (github.com, *.github.com, *.githubusercontent.com, the API's
  host) and to PUBLIC_URL. Any other markdown link keeps its text and loses its target; any other
  bare URL (GitHub links those by itself) is defanged the way security reports do it —
  `hxxps://host/…`, `www\[.\]host` — readable, never clickable, whatever backticks surround it;
- raw HTML is shown as text (`<` → `&lt;`, and `&` → `&amp;` where it would start an entity such
  as `&#64;`), so no `<a>`, `<img>` or comment comes from outside — in particular no forged marker
  of another incident;
- `@name` and `#12` / `org/repo#12` get a zero-width space after `@` / `#` (U+200B): they read the
  same, but GitHub neither notifies the user nor writes a cross-reference into another issue
  (`#12` in a report is an incident, not an issue);
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

_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}(?=[^`]*$)|~{3,})")
_MD_LINK = re.compile(r"(!?)(?<!\\)\[((?:\\.|[^\]\\])*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REF_DEF = re.compile(r"^ {0,3}(?<!\\)\[[^\]]+\]:\s*<?(\S+?)>?(\s.*)?$")
# A URL ends where another could start: `https://ok/*https://evil` is two, judged one by one.
_BARE_URL = re.compile(r"(?:(?:https?|ftp)://|www\.)(?:(?!(?:https?|ftp)://|www\.)[^\s<>`\x00])+", re.IGNORECASE)
_HTML = re.compile(r"(?<!\\)<(?=[A-Za-z/!?])")
_ENTITY = re.compile(r"(?<!\\)&(?=#\d+;|#[xX][0-9A-Fa-f]+;|[A-Za-z][A-Za-z0-9]{1,31};)")  # `&#64;` is an @
_MENTION = re.compile(r"(?<![A-Za-z0-9@/])@(?=[A-Za-z0-9])")
_REFERENCE = re.compile(r"(?<![A-Za-z0-9&])((?:[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)?)#(?=\d)")
_ZWSP = "\u200b"
_SCHEME = re.compile(r"(https?|ftp)://", re.IGNORECASE)
_WWW = re.compile(r"www\.", re.IGNORECASE)
_TRAILING = ".,;:!?)]'\""


def marker(incident_id: int, kind: str) -> str:
    return f"<!-- oncall-copilot incident={incident_id} kind={kind} -->"


def safe_title(title: str) -> str:
    """One line of at most 200 characters, without mentions or issue references."""
    flat = " ".join(title.split()) or "oncall-copilot"
    return quiet(flat if len(flat) <= MAX_TITLE else flat[: MAX_TITLE - 1].rstrip() + "…")


def labels_for(kind: str, extra: tuple[str, ...] | list[str] = ()) -> list[str]:
    """`oncall-copilot`, `incident`, the type, then the caller's; each a valid GitHub label name."""
    out: list[str] = []
    for raw in (*BASE_LABELS, kind, *extra):
        name = " ".join(raw.replace(",", " ").split())[:MAX_LABEL]
        if name and name.lower() not in {x.lower() for x in out}:
            out.append(name)
    return out


def quiet(text: str) -> str:
    """No mention, no issue reference: a zero-width space after `@` / `#`."""
    text = _MENTION.sub("@" + _ZWSP, text)
    return _REFERENCE.sub(lambda m: m.group(1) + "#" + _ZWSP, text)


def defang(url: str) -> str:
    """`https://evil.example/x` → `hxxps://evil.example/x`, `www.evil.example` → `www\\[.\\]evil.example`
    (every one inside it too: `https://a/?u=https://b`)."""
    url = _SCHEME.sub(lambda m: m.group(1).lower().replace("t", "x") + "://", url)
    return _WWW.sub(r"www\\[.\\]", url)


class LinkPolicy:
    """Which URLs a body may link to: GitHub's own and PUBLIC_URL."""

    def __init__(self, *, public_url: str, api_url: str = "https://api.github.com") -> None:
        self.public_url = public_url.rstrip("/")
        self.api_host = (urlsplit(api_url).hostname or "").lower()

    def allows(self, url: str) -> bool:
        if url == self.public_url or url.startswith(self.public_url + "/"):
            return True
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
        except ValueError:  # `https://[x`: not a URL anyone can follow
            return False
        if parts.scheme != "https":
            return False
        return host in {"github.com", self.api_host} or host.endswith((".github.com", ".githubusercontent.com"))

    def _bare(self, match: re.Match[str]) -> str:
        url = match.group(0)
        cut = len(url.rstrip(_TRAILING))
        url, tail = url[:cut], url[cut:]
        return (url if self.allows(url) else defang(url)) + tail

    def _link(self, match: re.Match[str]) -> str:
        bang, label, url = match.groups()
        label = self._text(label)
        if self.allows(url):
            return f"{bang}[{label}]({url})"
        return f"{label} (link removed)" if not bang else f"{label or 'image'} (image removed)"

    def _text(self, text: str) -> str:
        """Plain text of a line (or of a link's label): URLs defanged, then HTML shown as text."""
        text = _ENTITY.sub("&amp;", text)
        return quiet(_HTML.sub("&lt;", _BARE_URL.sub(self._bare, text)))

    def line(self, text: str) -> str:
        # An escaped backslash (`\\`) escapes nothing after it: hold the pairs aside while the
        # patterns look for unescaped `[`, `<`, `@` and `#`.
        text = text.replace("\\\\", "\x01")
        ref = _REF_DEF.match(text)
        if ref and not self.allows(ref.group(1).replace("\x01", "\\")):
            return "(link definition removed)"
        # Links first, as placeholders: their targets are judged whole, their labels as text.
        kept: list[str] = []

        def hold(match: re.Match[str]) -> str:
            kept.append(self._link(match))
            return f"\x00{len(kept) - 1}\x00"

        text = self._text(_MD_LINK.sub(hold, text))
        text = re.sub(r"\x00(\d+)\x00", lambda m: kept[int(m.group(1))], text)
        return text.replace("\x01", "\\\\")


def safe_markdown(markdown: str, policy: LinkPolicy) -> str:
    out: list[str] = []
    fence = ""  # the open fence's run of ``` or ~~~, while inside one
    for line in markdown.replace("\x00", "").replace("\x01", "").splitlines():
        if fence:
            closing = line.strip()
            if closing.startswith(fence) and set(closing) == {fence[0]} and line[: len(line) - len(line.lstrip())].count(" ") < 4:
                fence = ""
            out.append(line)
            continue
        opening = _FENCE_OPEN.match(line)
        if opening:
            fence = opening.group(1)
            out.append(line)
        else:
            out.append(policy.line(line))
    if fence:
        out.append(fence)  # an unterminated fence would swallow the footer
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
