"""The four specialists: name, prompt template, thresholds and tool set."""

from agent_service.specialists.specs import specialist_specs, tools_for

__all__ = ["specialist_specs", "tools_for"]
