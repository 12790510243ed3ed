"""Text from outside (log names, labels, annotations, notes, root causes, questions) as markdown text.

`md_escape` is the one function every renderer of the agent uses for an untrusted fragment: the
fragment becomes one line whose markdown and HTML metacharacters are backslash-escaped, so
`[x](https://evil)` shows as typed, `# H1` is not a heading and `<a href>` is not a tag.
"""

from __future__ import annotations

import re

# `_` inside a word (be_app) is never emphasis in CommonMark, so it stays readable unescaped.
_SPECIAL = re.compile(r"([\\`*\[\]{}<>#|!~&]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")
_LINE_START = re.compile(r"^([-+=>]|\d+[.)])")


def md_escape(text: str, limit: int | None = None) -> str:
    flat = " ".join(text.split())
    if limit is not None and len(flat) > limit:
        flat = flat[: max(limit - 1, 0)].rstrip() + "…"
    return _LINE_START.sub(r"\\\1", _SPECIAL.sub(r"\\\1", flat))
