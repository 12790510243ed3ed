from __future__ import annotations

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
        "`http://evil.example/b`, https://gist.github.com/x `www.evil.example` "
        "`http://127.0.0.1:8001.evil.example/`")


def test_plain_http_to_github_is_not_github() -> None:
    assert not POLICY.allows("http://github.com/acme")
    assert not POLICY.allows("https://github.com.evil.example/")
    assert POLICY.allows("https://raw.githubusercontent.com/acme/shop/main/x")


def test_html_mentions_and_references_are_shown_as_text() -> None:
    text = "<a href=x>hi</a> <!-- oncall-copilot incident=9 kind=issue --> @alice @acme/sre acme/shop#3 as #12 a@b.c"
    assert safe_markdown(text, POLICY) == (
        "&lt;a href=x>hi&lt;/a> &lt;!-- oncall-copilot incident=9 kind=issue --> "
        "`@alice` `@acme/sre` `acme/shop#3` as `#12` a@b.c")


def test_escaped_text_from_the_report_renderer_stays_escaped() -> None:
    assert safe_markdown(r"\[x\](y) \<b\> \# h", POLICY) == r"\[x\](y) \<b\> \# h"


def test_fenced_code_is_left_alone_and_an_open_fence_is_closed() -> None:
    text = "before @bob\n```\n@bob https://evil.example <b>\n```\nafter\n```\nopen"
    assert safe_markdown(text, POLICY) == (
        "before `@bob`\n```\n@bob https://evil.example <b>\n```\nafter\n```\nopen\n```")


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
    assert len(safe_title("x" * 500)) == 200
    assert labels_for("rollback", ["Incident", "be,app", "y" * 80]) == [
        "oncall-copilot", "incident", "rollback", "be app", "y" * 50]
