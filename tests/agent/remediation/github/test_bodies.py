from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token

from agent_service.remediation.github.bodies import LinkPolicy, body, labels_for, marker, safe_markdown, safe_title

POLICY = LinkPolicy(public_url="http://127.0.0.1:8001", api_url="https://api.github.com")


def test_links_only_to_github_and_public_url() -> None:
    text = ("[fix](https://evil.example/a) [pr](https://github.com/acme/shop/pull/3) "
            "[console](http://127.0.0.1:8001/console/incidents/4) ![img](https://evil.example/p.png) "
            "http://evil.example/b, https://gist.github.com/x www.evil.example "
            "http://127.0.0.1:8001.evil.example/")
    assert safe_markdown(text, POLICY) == (
        "fix (link removed) [pr](https://github.com/acme/shop/pull/3) "
        "[console](http://127.0.0.1:8001/console/incidents/4) img (image removed) "
        "hxxp://evil.example/b, https://gist.github.com/x www\\[.\\]evil.example "
        "hxxp://127.0.0.1:8001.evil.example/")


def test_plain_http_to_github_is_not_github() -> None:
    assert not POLICY.allows("http://github.com/acme")
    assert not POLICY.allows("https://github.com.evil.example/")
    assert POLICY.allows("https://raw.githubusercontent.com/acme/shop/main/x")


def test_html_mentions_and_references_are_shown_as_text() -> None:
    text = "<a href=x>hi</a> <!-- oncall-copilot incident=9 kind=issue --> @alice @acme/sre acme/shop#3 as #12 a@b.c"
    assert safe_markdown(text, POLICY) == (
        "&lt;a href=x>hi&lt;/a> &lt;!-- oncall-copilot incident=9 kind=issue --> "
        "@\u200balice @\u200bacme/sre acme/shop#\u200b3 as #\u200b12 a@b.c")


def test_a_stray_backtick_cannot_pair_with_what_we_add() -> None:
    assert safe_markdown("`[r]: https://evil.example", POLICY) == "`[r]: hxxps://evil.example"
    assert safe_markdown(r"\\[x](https://evil.example/a)", POLICY) == r"\\x (link removed)"


def test_escaped_text_from_the_report_renderer_stays_escaped() -> None:
    assert safe_markdown(r"\[x\](y) \<b\> \# h", POLICY) == r"\[x\](y) \<b\> \# h"


def test_fenced_code_is_left_alone_and_an_open_fence_is_closed() -> None:
    text = "before @bob\n```\n@bob https://evil.example <b>\n```\nafter\n~~~~\nopen\n~~~"
    assert safe_markdown(text, POLICY) == (
        "before @\u200bbob\n```\n@bob https://evil.example <b>\n```\nafter\n~~~~\nopen\n~~~\n~~~~")
    not_a_fence = "```[x](https://evil.example/a)`"  # a backtick in the info string: inline code
    assert safe_markdown(not_a_fence, POLICY) == "```x (link removed)`"


def test_body_starts_with_the_marker_and_links_back() -> None:
    text = body(incident_id=7, kind="issue", markdown="# Report\nall bad", policy=POLICY, note="**Note**")
    lines = text.splitlines()
    assert lines[0] == marker(7, "issue")
    assert lines[2] == "**Note**"
    assert lines[-1] == "Filed by oncall-copilot for incident 7: http://127.0.0.1:8001/console/incidents/7"


def test_a_huge_report_is_cut_under_githubs_limit() -> None:
    text = body(incident_id=1, kind="issue", markdown="line of text\n" * 20_000, policy=POLICY)
    assert len(text) < 65_536
    assert "report cut; the whole report: http://127.0.0.1:8001/console/incidents/1" in text


def test_titles_and_labels() -> None:
    assert safe_title("  be_app\n 5xx  ") == "be_app 5xx"
    assert safe_title("Fixes #12 for @bob") == "Fixes #\u200b12 for @\u200bbob"
    assert len(safe_title("x" * 500)) == 200
    assert labels_for("rollback", ["Incident", "be,app", "y" * 80]) == [
        "oncall-copilot", "incident", "rollback", "be app", "y" * 50]


# --- rendered as CommonMark with raw HTML on, whatever the report text: nothing links elsewhere --

_FRAGMENTS = st.sampled_from([
    "[x](https://evil.example/a)", "![i](https://evil.example/i.png)", "<https://evil.example>",
    "<a href='https://evil.example'>x</a>", "https://evil.example/p?q=1", "www.evil.example", "(", ")",
    "[", "]", "\\", "`", "```", "\n", " ", "@bob", "#12", "o/r#3", "<!--", "-->", "<img src=x>",
    "[ok](https://github.com/acme/shop)", "http://127.0.0.1:8001/console", "*", "_", "[r]: https://evil.example",
    "text", "é", "\t", "&#64;bob", "&#x40;", "&commat;", "&#104;ttps://evil.example", "&lt;a href=x>"])


def _rendered_problems(markdown: str) -> list[str]:
    problems: list[str] = []

    def walk(tokens: list[Token]) -> None:
        for token in tokens:
            for attr in ("href", "src"):
                target = token.attrGet(attr)
                if isinstance(target, str) and not POLICY.allows(target):
                    problems.append(f"{token.type} {attr}={target}")
            if token.type in {"html_inline", "html_block"}:
                problems.append(f"{token.type} {token.content!r}")
            if token.type == "text":  # what GitHub would autolink or mention
                for found in re.findall(r"(?:https?://|www\.)[^\s<>`]+|(?<![\w`])@[A-Za-z0-9]", token.content):
                    if not POLICY.allows(found.rstrip(".,;:!?)]'\"")):
                        problems.append(f"text {found!r}")
            if token.children:
                walk(token.children)

    walk(MarkdownIt("commonmark", {"html": True}).parse(markdown))
    return problems


@settings(max_examples=300, deadline=None)
@given(st.lists(_FRAGMENTS, max_size=25).map("".join))
def test_no_rendering_of_a_safe_body_links_outside_github_and_public_url(text: str) -> None:
    assert _rendered_problems(safe_markdown(text, POLICY)) == []


def test_the_property_check_itself_sees_unsafe_markdown() -> None:
    assert _rendered_problems("[x](https://evil.example) <b>x</b> @bob https://evil.example") != []
