from __future__ import annotations

import pytest

from tests.agent.incidents.support import running_notifier
from tests.agent.llm.conftest import fake_llm  # noqa: F401 - the fake Anthropic Messages API fixture


@pytest.fixture
def notifier():
    with running_notifier() as fake:
        yield fake
