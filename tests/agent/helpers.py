from __future__ import annotations

from datetime import UTC, datetime

from agent_service.engine import Engine
from agent_service.ingestion_client import IngestionClient
from agent_service.models import AnalyzeRequest, IncidentReport
from agent_service.orchestrator import Analyzer
from agent_service.rules import RulesEngine
from agent_service.settings import Settings
from tests.agent.fake_ingestion import FakeIngestion

END = datetime(2026, 1, 1, 10, 15, tzinfo=UTC)
PREVIOUS_END = "2026-01-01T10:00:00Z"


def settings(**overrides: object) -> Settings:
    return Settings(_env_file=None, **overrides)  # type: ignore[call-arg]


async def analyze_fake(fake: FakeIngestion, engine: Engine | None = None, *,
                       overrides: dict[str, object] | None = None, **request: object) -> IncidentReport:
    """`overrides`: Settings fields for this analysis (thresholds, …); the rest is the request."""
    fake.previous_end = PREVIOUS_END
    analyzer = Analyzer(engine=engine or RulesEngine(), ingestion=IngestionClient(fake.client()),
                        settings=settings(**(overrides or {})))
    return await analyzer.analyze(AnalyzeRequest(window="15m", end=END, **request))  # type: ignore[arg-type]


def finding(report: IncidentReport, name: str):
    return next(f for f in report.findings if f.specialist == name)


def text(report: IncidentReport) -> str:
    return " ".join([report.title, report.diagnosis, *report.recommendations]).lower()
