"""Lua scripts live in `<package>/lua/*.lua` files, loaded by name."""

from __future__ import annotations

from importlib import resources


def lua_script(package: str, name: str, *, strip_comments: bool = False) -> str:
    """The source of `<package>/lua/<name>`. `strip_comments` drops whole-line `--` comments, for
    scripts sent with EVAL on every call (their comments would travel with every call)."""
    source = resources.files(package).joinpath("lua", name).read_text(encoding="utf-8")
    if not strip_comments:
        return source
    return "".join(line for line in source.splitlines(keepends=True) if not line.lstrip().startswith("--"))
