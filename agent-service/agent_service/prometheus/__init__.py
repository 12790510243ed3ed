"""Prometheus, read-only: typed models of its HTTP API answers (api.py), an httpx client
(client.py) and the pure summary of a query result for the model (summary.py)."""
