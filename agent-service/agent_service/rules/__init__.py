"""The offline rules engine (LLM_ENGINE=rules) and the deterministic synthesis."""

from agent_service.rules.engine import RulesEngine
from agent_service.rules.synthesis import synthesize

__all__ = ["RulesEngine", "synthesize"]
