"""The tolerant reading of chat-completions answers (pure: dicts in, a Turn out)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from agent_service.llm.openai_parse import calls_in_content, parse_arguments, parse_tokens, parse_turn, resolve_name

KNOWN = ["overview", "report_finding"]


def answer(message: dict, finish_reason: str = "stop", **extra) -> dict:
    return {"choices": [{"index": 0, "message": message, "finish_reason": finish_reason}], **extra}


def test_arguments_in_the_shapes_servers_send() -> None:
    assert parse_arguments('{"a": 1}') == {"a": 1}
    assert parse_arguments('  {"a": 1}\n\nNow I will wait for the result.') == {"a": 1}
    assert parse_arguments('```json\n{"a": 1}\n```') == {"a": 1}
    assert parse_arguments({"a": 1}) == {"a": 1}
    assert parse_arguments("") == {} and parse_arguments(None) == {} and parse_arguments("  ") == {}
    assert parse_arguments("a=1") == "a=1"  # unreadable: kept, refused by the runner with the reason
    assert parse_arguments("[1, 2]") == [1, 2]  # JSON, but not an object: refused too


def test_names_with_prefix_case_or_dashes_resolve_to_a_known_tool_and_others_stay() -> None:
    assert resolve_name("functions.overview", KNOWN) == "overview"
    assert resolve_name("Report-Finding", KNOWN) == "report_finding"
    assert resolve_name("get_weather", KNOWN) == "get_weather"
    assert resolve_name(None, KNOWN) == ""


def test_calls_written_in_the_content() -> None:
    assert calls_in_content('{"name": "overview", "arguments": {"backend": "a"}}', KNOWN) == [("overview", {"backend": "a"})]
    assert calls_in_content('{"name": "overview", "parameters": "{\\"x\\": 1}"}', KNOWN) == [("overview", {"x": 1})]
    assert calls_in_content('{"function": {"name": "overview", "arguments": "{}"}}', KNOWN) == [("overview", {})]
    assert calls_in_content('{"tool_calls": [{"function": {"name": "overview"}}]}', KNOWN) == [("overview", {})]
    assert calls_in_content('[{"name": "overview"}, {"name": "report_finding", "arguments": {}}]', KNOWN) == [
        ("overview", {}), ("report_finding", {})
    ]
    assert calls_in_content("Let me call it:\n```json\n{\"tool\": \"overview\"}\n```", KNOWN) == [("overview", {})]


def test_no_call_where_the_intent_is_not_clear() -> None:
    assert calls_in_content('{"name": "get_weather", "arguments": {}}', KNOWN) == []
    assert calls_in_content("The p95 is {high}.", KNOWN) == []
    assert calls_in_content('{"severity": "ok", "summary": "fine"}', KNOWN) == []  # not forced: just text


def test_on_a_forced_turn_a_bare_object_is_the_forced_tool_input() -> None:
    text = 'Finding: {"severity": "ok", "summary": "fine"} done'
    assert calls_in_content(text, KNOWN, force="report_finding") == [("report_finding", {"severity": "ok", "summary": "fine"})]
    assert calls_in_content(text, KNOWN, force="not_offered") == []


def test_parse_turn_gives_ids_to_calls_without_one_and_keeps_the_finish_reason() -> None:
    message = {"role": "assistant", "content": None, "tool_calls": [
        {"type": "function", "function": {"name": "overview", "arguments": "{}"}},
        {"id": "c1", "type": "function", "function": {"name": "overview", "arguments": '{"a": 1}'}},
        {"id": "c1", "type": "function", "function": {"name": "overview", "arguments": '{"a": 2}'}},
    ]}
    turn = parse_turn(answer(message, "tool_calls"), KNOWN)
    assert [c.input for c in turn.calls] == [{}, {"a": 1}, {"a": 2}]
    assert turn.calls[1].id == "c1" and len({c.id for c in turn.calls}) == 3 and turn.calls[0].id.startswith("call_")
    assert turn.stop_reason == "tool_calls" and turn.text == ""


def test_parse_turn_of_odd_answers() -> None:
    assert parse_turn({}, KNOWN).calls == [] and parse_turn({"choices": []}, KNOWN).stop_reason == "no choices in the answer"
    assert parse_turn(answer({"content": "  hi  "}), KNOWN).text == "hi"
    assert parse_turn(answer({"content": ["not", "text"]}), KNOWN).text == ""
    structured_wins = answer({"content": '{"name": "report_finding"}', "tool_calls": [
        {"id": "x", "function": {"name": "overview", "arguments": "{}"}}]})
    assert [c.name for c in parse_turn(structured_wins, KNOWN).calls] == ["overview"]


def test_tokens_from_usage_when_sent() -> None:
    usage = {"prompt_tokens": 100, "completion_tokens": 20, "prompt_tokens_details": {"cached_tokens": 60}}
    tokens = parse_tokens({"usage": usage})
    assert (tokens.input, tokens.output, tokens.cache_read) == (40, 20, 60)
    assert parse_tokens({}) == parse_tokens({"usage": None}) == parse_tokens({"usage": {"prompt_tokens": "?"}})
    assert parse_tokens({}).input == 0


@given(st.text(max_size=300))
def test_reading_never_raises_on_any_text(text: str) -> None:
    parse_arguments(text)
    calls_in_content(text, KNOWN, force="report_finding")
    parse_turn(answer({"content": text, "tool_calls": [{"function": {"name": text, "arguments": text}}]}), KNOWN)


def test_a_think_block_is_dropped_and_a_call_in_it_is_no_call() -> None:
    thinking = '<think>Maybe {"name": "overview", "arguments": {}}? No, I know enough.</think>The latency is fine.'
    turn = parse_turn(answer({"content": thinking}), KNOWN)
    assert turn.calls == [] and turn.text == "The latency is fine."
    unclosed = parse_turn(answer({"content": '<think>{"name": "overview"} and then'}), KNOWN)
    assert unclosed.calls == [] and unclosed.text == ""


def test_a_message_that_is_not_an_object_is_an_empty_turn() -> None:
    turn = parse_turn({"choices": [{"message": "hello", "finish_reason": "stop"}]}, KNOWN)
    assert turn.calls == [] and turn.text == "" and turn.stop_reason == "stop"


def test_server_quirks_step_along_a_finite_list() -> None:
    from agent_service.llm.openai_compat import ServerQuirks

    quirks = ServerQuirks()
    assert quirks.adapt("context length exceeded", format_sent=True) is None
    assert quirks.tool_choice("report_finding") == {"type": "function", "function": {"name": "report_finding"}}
    assert quirks.adapt('Invalid tool_choice: {"type": "function"}', format_sent=False)
    assert quirks.tool_choice("report_finding") == "required"
    assert quirks.adapt("Invalid tool_choice: required", format_sent=False) is None  # nothing weaker left
    assert quirks.adapt("Unsupported parameter: 'max_tokens'. Use 'max_completion_tokens' instead.", format_sent=False)
    assert quirks.token_limit == "max_completion_tokens"
    assert quirks.adapt("use max_completion_tokens", format_sent=False) is None  # already done
    assert quirks.response_format("report_finding", {"type": "object"}) == {
        "type": "json_schema", "json_schema": {"name": "report_finding", "schema": {"type": "object"}}
    }
    assert quirks.adapt("response_format json_schema is not supported", format_sent=False) is None  # none was sent
    assert quirks.adapt("response_format json_schema is not supported", format_sent=True) == (
        "response_format refused; trying json_object"
    )
    assert quirks.response_format("x", {}) == {"type": "json_object"}
    assert quirks.adapt("json_object unknown", format_sent=True) == "response_format refused; trying none"
    assert quirks.response_format("x", {}) is None
    assert quirks.adapt("response_format", format_sent=True) is None  # nothing weaker left
