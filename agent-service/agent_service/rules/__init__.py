"""The offline rules engine (LLM_ENGINE=rules) and the deterministic synthesis.

Each specialist runs in three steps (composed in `rules_engine.py`):
- fetch (`fetch.py`, the only I/O): tool calls through the `Recorder`, which keeps every answer as
  evidence, turned into the specialist's typed facts (`LatencyFacts`, `ErrorFacts`, …; the per-scope
  rows shared by all of them, `BackendStats`/`ServerStats`, in `facts.py`);
- grade (`grade_latency`, `grade_errors`, `grade_saturation`, `grade_traffic`): pure functions of
  facts and the typed thresholds (`specialists/specs.py`, from Settings; nowhere else) returning
  `Grades`, each `Grade` on one scope with the numbers that decided it and the tools behind them;
- words (`words` in each module): the finding's summary, details and signals from the grades.
The synthesis (`synthesis.py`) reads findings only (`facts.read`), so it also serves Claude's.
"""

from agent_service.rules.rules_engine import RulesEngine
from agent_service.rules.synthesis import synthesize

__all__ = ["RulesEngine", "synthesize"]
