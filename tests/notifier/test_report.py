"""Rendering the report's markdown for email: safe HTML, phone-friendly text (pure)."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from notifier_service.report import render_report

REPORT = """# High 5xx rate on be_api

**Diagnosis:** app2 returns 503 since the 14:02 deploy.

## Findings

| specialist | severity | status | summary |
|---|---|---|---|
| latency | warning | completed | p95 1.8 s (was 0.2 s) |
| errors | **critical** | completed | 23% 5xx, all from `app2` |
| saturation | ok | completed | |

## Recommendations

1. Drain app2: see [runbook](https://wiki.example/runbooks/drain)
2. Roll back the 14:02 deploy
"""


def test_findings_table_becomes_cards_and_recommendations_a_list() -> None:
    out = render_report(REPORT, allowed_links=["https://wiki.example/incidents/1"])
    assert out.html.count('<div style="border:1px solid') == 3
    assert '<div style="font-weight:bold;margin-bottom:4px">errors</div>' in out.html
    assert "<strong>critical</strong>" in out.html and "<code>app2</code>" in out.html
    assert "<table" not in out.html
    assert '<a href="https://wiki.example/runbooks/drain">runbook</a>' in out.html
    assert "<ol>" in out.html and "<li>Roll back the 14:02 deploy</li>" in out.html
    # an empty cell is left out rather than shown as "summary:" with nothing after it
    saturation = out.html.split(">saturation<")[1].split("</div></div>")[0]
    assert "summary" not in saturation


def test_plain_text_keeps_the_markdown_but_stacks_table_rows() -> None:
    text = render_report(REPORT).text
    assert "| specialist |" not in text
    assert "* latency\n    severity: warning\n    status: completed\n    summary: p95 1.8 s (was 0.2 s)\n" in text
    assert "1. Drain app2: see [runbook](https://wiki.example/runbooks/drain)" in text
    assert text.startswith("# High 5xx rate on be_api")


def test_raw_html_unsafe_links_and_images_are_inert() -> None:
    out = render_report(
        '<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n[a](javascript:alert(1)) '
        "[b](data:text/html;base64,PHNjcmlwdD4=) ![t](https://tracker.example/p.gif) [c](vbscript:x)"
    )
    assert "<script" not in out.html and "<img" not in out.html
    assert "href=\"javascript" not in out.html and "href=\"data:" not in out.html and "href=\"vbscript" not in out.html
    assert "&lt;script&gt;" in out.html


def test_links_to_a_foreign_origin_show_as_text() -> None:
    out = render_report("see [runbook](https://evil.example/x) and <https://evil.example/y> or "
                        "[ok](https://agent.example:8080/reports/1)\n\n| a | b |\n|---|---|\n| [c](https://evil.example/z) | d |\n",
                        allowed_links=["https://AGENT.example:8080/incidents/7"])
    assert "evil.example" in out.html and 'href="https://evil' not in out.html
    assert "[runbook](https://evil.example/x)" in out.html and "[c](https://evil.example/z)" in out.html
    assert '<a href="https://agent.example:8080/reports/1">ok</a>' in out.html


def test_a_long_report_is_cut_with_a_marker() -> None:
    out = render_report("word " * 40_000)
    assert len(out.text) < 101_000 and "report truncated: 100000 more characters not shown" in out.text


def test_empty_report_renders_nothing() -> None:
    assert render_report("  \n").html == "" and render_report("").text == ""


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("<>\"'&|-*_`[]()!:/ \nabcjsvript=")), max_size=200))
def test_no_markup_from_any_text(text: str) -> None:
    html = render_report(text).html
    for tag in ("<script", "<img", "<iframe", "<svg", "<a href=\"javascript", "<style"):
        assert tag not in html.lower()
