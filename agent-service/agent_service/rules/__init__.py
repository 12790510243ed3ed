"""The offline rules engine (LLM_ENGINE=rules) and the deterministic synthesis.

`rules_engine.py` composes each specialist: one `get_breakdown` query (through the `Recorder`,
which keeps every answer as evidence; the four specialists share the query) → the differential
diagnosis of `agent_service/diagnosis` (pure: facts per scope against their baseline, the
catalogue of failure modes, ranked) → the finding's words. Its synthesis tells the same diagnosis.
`synthesis.py` is the deterministic synthesis from findings alone (`facts.read`): the fallback
when an LLM synthesis fails.
"""

from agent_service.rules.rules_engine import RulesEngine
from agent_service.rules.synthesis import synthesize

__all__ = ["RulesEngine", "synthesize"]
