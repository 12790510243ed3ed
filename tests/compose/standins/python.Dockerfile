# Stand-in for python:3.11-slim: Debian bookworm's python3 (3.11) with venv, as `python`.
FROM oncall-copilot-standin/python-base:bookworm
