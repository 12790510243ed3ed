#!/usr/bin/env python3
"""Write the compose file secrets from .env (standard library only; run by `make up`).

Compose reads `secrets.<name>.file` on every implementation (Compose v2, docker-compose 1.29,
podman-compose); a secret from `environment:` only on Compose >= 2.23. So the value stays in .env,
where the user sets it, and this script copies it to .secrets/<name>: the directory 0700 (other
users of the host cannot reach it), the file 0644 (the container user reads the bind mount).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

SECRETS = {"alerts_token": "ALERTS_TOKEN"}  # secret name -> variable in .env


def read_env(path: Path) -> dict[str, str]:
    """KEY=VALUE lines as Compose reads an env file: comments and blank lines skipped, one pair of
    surrounding quotes removed."""
    values: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        key = key.removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    return values


def write_secrets(root: Path) -> list[Path]:
    env_file = root / ".env"
    if not env_file.is_file():
        raise SystemExit("make up: no .env: cp .env.example .env and set the tokens (see README)")
    values = read_env(env_file)
    directory = root / ".secrets"
    directory.mkdir(mode=0o700, exist_ok=True)
    directory.chmod(0o700)
    written = []
    for name, variable in SECRETS.items():
        value = os.environ.get(variable) or values.get(variable, "")
        if not value:
            raise SystemExit(f"make up: set {variable} in .env (generate one: "
                             "python3 -c 'import secrets; print(secrets.token_urlsafe(32))')")
        path = directory / name
        path.write_text(value)
        path.chmod(0o644)
        written.append(path)
    return written


if __name__ == "__main__":
    for secret in write_secrets(Path(sys.argv[1] if len(sys.argv) > 1 else ".")):
        print(f"make up: wrote {secret}")
