"""A tool's JSON input schema, derived from its pydantic argument model (one source for what the
model is told and what is checked), and validation errors the model can act on."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError


def _tidy(prop: dict[str, Any]) -> dict[str, Any]:
    """Drop pydantic's titles; an optional field (`X | None`) is shown as X, not required."""
    prop.pop("title", None)
    options = prop.get("anyOf")
    if isinstance(options, list) and len(options) == 2 and {"type": "null"} in options:
        (kept,) = [o for o in options if o != {"type": "null"}]
        del prop["anyOf"]
        if prop.get("default", ...) is None:
            del prop["default"]
        prop = {**kept, **prop}
    return prop


def input_schema(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema()
    schema.pop("title", None)
    schema["properties"] = {name: _tidy(dict(p)) for name, p in schema.get("properties", {}).items()}
    return schema


def short_errors(exc: ValidationError, limit: int = 5) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'arguments'}: {e['msg']}" for e in exc.errors()[:limit])
