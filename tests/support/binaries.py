"""Real binaries from Debian: found, or the test is skipped (failed under REQUIRE_REAL_SERVICES=1)."""

from __future__ import annotations

import os
import shutil

import pytest

_SEARCH = ["/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"]


def require_real_services() -> bool:
    return os.environ.get("REQUIRE_REAL_SERVICES", "") not in ("", "0", "false", "no")


def require_binary(name: str) -> str:
    """Path of `name`; skips the test when missing, or fails it when real services are required."""
    path = shutil.which(name) or shutil.which(name, path=os.pathsep.join(_SEARCH))
    if path:
        return path
    message = f"{name} is not installed (make setup installs it with apt-get)"
    if require_real_services():
        pytest.fail(message + " and REQUIRE_REAL_SERVICES=1", pytrace=False)
    pytest.skip(message)
