from __future__ import annotations

import pytest

from tests.agent.incidents.support import running_notifier


@pytest.fixture
def notifier():
    with running_notifier() as fake:
        yield fake
