"""Reading a chat-completions answer the way local servers (Ollama, vLLM, llama.cpp, LM Studio)
really send it, into a neutral Turn. Pure: a dict in, a Turn and the token counts out.

Tolerated, where the intent is clear:
- `arguments` as a JSON string with trailing text or a code fence around it, as an object, or empty;
- a tool call written as JSON in the message content instead of `tool_calls` (`{"name", "arguments"}`,
  `{"function": {...}}`, `{"tool_calls": [...]}`, a list of them, `<tool_call>` tags, code fences),
  recovered only when it names a known tool;
- on a forced turn, a bare JSON object in the content: the forced tool's arguments;
- a missing or repeated call id (a fresh one is made);
- a tool name with a `functions.` prefix, other case or dashes;
- a `<think>…</think>` block before the answer (reasoning models): dropped, a call in it is no call.
Anything else stays as sent: unreadable arguments reach the runner as text (refused with the
reason), an unknown name gets the list of the available tools.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from agent_service.llm.calls import Tokens
from agent_service.llm.turns import ToolCall, Turn

_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.DOTALL)  # reasoning models' thoughts: never a call
_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)
_TAGGED = re.compile(r"<(?:tool_call|function_call|tools)>\s*(.*?)\s*</(?:tool_call|function_call|tools)>", re.DOTALL)
_ARGUMENT_KEYS = ("arguments", "parameters", "args", "input")
_NAME_KEYS = ("name", "tool", "tool_name", "function_name")


def new_call_id() -> str:
    return f"call_{uuid.uuid4().hex[:20]}"


def json_values(text: str) -> Iterator[Any]:
    """Every JSON object or array that starts somewhere in `text` (trailing text is ignored)."""
    decoder = json.JSONDecoder()
    index = 0
    while True:
        starts = [i for i in (text.find("{", index), text.find("[", index)) if i >= 0]
        if not starts:
            return
        start = min(starts)
        try:
            value, end = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            index = start + 1
            continue
        yield value
        index = end


def first_json(text: str) -> Any | None:
    return next(json_values(text), None)


def parse_arguments(raw: Any) -> Any:
    """A dict when the arguments can be read as a JSON object; else what was sent (text)."""
    if isinstance(raw, dict):
        return raw
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return {}
    if isinstance(raw, str):
        text = raw.strip()
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            value = first_json(text)
            return value if isinstance(value, dict) else raw
    return raw


def resolve_name(name: Any, known: Sequence[str]) -> str:
    text = str(name or "").strip()
    if text in known:
        return text
    simple = text.removeprefix("functions.").lower().replace("-", "_")
    return next((k for k in known if k.lower() == simple), text)


def _as_call(value: Any, known: Sequence[str]) -> tuple[str, Any] | None:
    """(name, arguments) when `value` is a call of a known tool in one of the usual shapes."""
    if not isinstance(value, dict):
        return None
    if isinstance(value.get("function"), dict):
        value = value["function"]
    name = next((value[k] for k in _NAME_KEYS if isinstance(value.get(k), str)), None)
    if name is None or resolve_name(name, known) not in known:
        return None
    raw = next((value[k] for k in _ARGUMENT_KEYS if k in value), {})
    return resolve_name(name, known), parse_arguments(raw)


def _groups(content: str) -> Iterator[list[Any]]:
    """The JSON values of the `<tool_call>` tags, then of the code fences, then of the whole text."""
    for pattern in (_TAGGED, _FENCE):
        yield [value for match in pattern.finditer(content) for value in json_values(match.group(1))]
    yield list(json_values(content))


def calls_in_content(content: str, known: Sequence[str], force: str | None = None) -> list[tuple[str, Any]]:
    """Tool calls written into the message text; on a forced turn a bare JSON object there counts
    as the forced tool's arguments. [] when the text holds no clear call."""
    bare: dict[str, Any] | None = None
    for values in _groups(content):
        calls: list[tuple[str, Any]] = []
        for value in values:
            listed = value.get("tool_calls") if isinstance(value, dict) else None
            items = listed if isinstance(listed, list) else value if isinstance(value, list) else [value]
            calls.extend(c for c in (_as_call(item, known) for item in items) if c is not None)
            if bare is None and isinstance(value, dict):
                bare = value
        if calls:
            return calls
    if force is not None and force in known and bare is not None:
        return [(force, bare)]
    return []


def _structured_calls(message: dict[str, Any], known: Sequence[str]) -> list[tuple[str | None, str, Any]]:
    out = []
    for item in message.get("tool_calls") or []:
        if not isinstance(item, dict):
            continue
        function = item.get("function") if isinstance(item.get("function"), dict) else item
        out.append((item.get("id"), resolve_name(function.get("name"), known), parse_arguments(function.get("arguments"))))
    return out


def parse_turn(data: dict[str, Any], known: Sequence[str], force: str | None = None) -> Turn:
    choices = data.get("choices") or []
    if not choices or not isinstance(choices[0], dict):
        return Turn(stop_reason="no choices in the answer")
    choice = choices[0]
    message = choice.get("message") if isinstance(choice.get("message"), dict) else {}
    content = message.get("content")
    text = _THINK.sub("", content) if isinstance(content, str) else ""
    found = _structured_calls(message, known)
    if not found and text:
        found = [(None, name, arguments) for name, arguments in calls_in_content(text, known, force)]
    calls: list[ToolCall] = []
    seen: set[str] = set()
    for call_id, name, arguments in found:
        if not isinstance(call_id, str) or not call_id or call_id in seen:
            call_id = new_call_id()
        seen.add(call_id)
        calls.append(ToolCall(call_id, name, arguments))
    return Turn(calls=calls, text=text.strip(), stop_reason=choice.get("finish_reason"))


def parse_tokens(data: dict[str, Any]) -> Tokens:
    """Tokens from `usage` when the server sends it (many local servers do not); cached prompt
    tokens count as cache reads."""
    usage = data.get("usage")
    if not isinstance(usage, dict):
        return Tokens()
    prompt = _count(usage.get("prompt_tokens"))
    details = usage.get("prompt_tokens_details")
    cached = _count(details.get("cached_tokens")) if isinstance(details, dict) else 0
    cached = min(cached, prompt)
    return Tokens(input=prompt - cached, output=_count(usage.get("completion_tokens")), cache_read=cached)


def _count(value: Any) -> int:
    return value if isinstance(value, int) and value > 0 else 0
