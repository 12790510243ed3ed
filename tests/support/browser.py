"""A real chromium for the console's browser tests: Debian's binary driven by Playwright for
Python; skipped when either is missing (failed under REQUIRE_REAL_SERVICES=1)."""

from __future__ import annotations

import importlib.util

import pytest

from scripts.browser import chromium_path
from tests.support.binaries import require_real_services


def require_browser() -> str:
    """The chromium executable; skips the test when chromium or playwright is not installed."""
    path = chromium_path()
    missing = [] if path else ["chromium (make setup installs it with apt-get)"]
    if importlib.util.find_spec("playwright") is None:
        missing.append("playwright (in requirements.lock; make setup installs it)")
    if not missing:
        return path  # type: ignore[return-value]
    message = " and ".join(missing) + " not installed"
    if require_real_services():
        pytest.fail(message + " and REQUIRE_REAL_SERVICES=1", pytrace=False)
    pytest.skip(message)
