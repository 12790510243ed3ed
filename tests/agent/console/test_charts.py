"""The inline SVG charts: pure functions, plain asserts."""

from __future__ import annotations

from agent_service.console.charts import HEIGHT, PAD, WIDTH, points, sparkline


def test_points_span_the_width_and_scale_to_the_top_value() -> None:
    [line] = points([0, 5, 10])
    coords = [tuple(map(float, p.split(","))) for p in line.split()]
    assert [x for x, _ in coords] == [PAD, WIDTH / 2, WIDTH - PAD]
    assert [y for _, y in coords] == [HEIGHT - PAD, HEIGHT / 2, PAD]


def test_a_minute_without_data_breaks_the_line() -> None:
    assert len(points([1, None, 2, 3])) == 2
    assert points([None, None]) == []


def test_all_zero_stays_on_the_axis() -> None:
    [line] = points([0, 0])
    assert all(p.endswith(f",{HEIGHT - PAD:.1f}") for p in line.split())


def test_the_label_is_escaped_and_the_latest_value_read_out() -> None:
    svg = str(sparkline([1, 2], label='<b onclick="x">api</b>', unit=" ms"))
    assert "<b onclick" not in svg and "&lt;b onclick=&#34;x&#34;&gt;api&lt;/b&gt;" in svg
    assert "latest 2 ms" in svg and svg.startswith("<svg") and 'role="img"' in svg


def test_red_when_the_latest_value_passes_the_threshold() -> None:
    assert 'class="bad"' in str(sparkline([1, 20], label="x", bad_above=10))
    assert 'class="line"' in str(sparkline([20, 1], label="x", bad_above=10))
    assert "<circle" in str(sparkline([None, 4], label="x"))
