"""Remediation with a human in the loop: typed proposals (models.py) made by the rules
(propose.py) or a model (tool.py), validated the same way (validate.py), approved or rejected on
the incident (lifecycle.py, service.py) and, for HAProxy runtime actions, executed through its
Runtime API (haproxy.py) — dry-run unless REMEDIATION_EXECUTE. GitHub sits behind ports.py."""
