"""Cross-cutting pieces shared by the three oncall-copilot services."""
