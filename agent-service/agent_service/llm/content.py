"""Text every engine sends the same way: tool results as compact JSON, and the engineer's
question, delimited so that the delimiters cannot be forged from inside."""

from __future__ import annotations

import json
from typing import Any

QUESTION_OPEN, QUESTION_CLOSE = "<engineer_question>", "</engineer_question>"


def to_json(data: Any) -> str:
    return json.dumps(data, default=str, ensure_ascii=False, separators=(",", ":"))


def question_text(question: str | None) -> str:
    """The engineer's own words, delimited; the delimiters cannot be forged from inside."""
    if not question:
        return ""
    cleaned = question
    while QUESTION_OPEN in cleaned or QUESTION_CLOSE in cleaned:  # nested forgeries shrink each pass
        cleaned = cleaned.replace(QUESTION_OPEN, "").replace(QUESTION_CLOSE, "")
    return (
        "\n\nThe on-call engineer asked the question below (their words, between the tags). Answer it "
        f"within your report where your signal bears on it.\n{QUESTION_OPEN}\n{cleaned}\n{QUESTION_CLOSE}"
    )
