"""422 bodies in FastAPI's own shape ({"detail": [{"loc", "msg", "type"}]}), as the OpenAPI schema declares."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException


def validation_detail(loc: list[str], msg: str, kind: str = "value_error") -> list[dict[str, Any]]:
    return [{"loc": loc, "msg": msg, "type": kind}]


def unprocessable(loc: list[str], msg: str) -> HTTPException:
    return HTTPException(422, detail=validation_detail(loc, msg))
