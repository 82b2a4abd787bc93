"""The course chart: its points and reference lines, for courses that respond, remit and worsen."""

from __future__ import annotations

import xml.etree.ElementTree as ET  # our own SVG, not untrusted input
from datetime import datetime, timedelta

from questionnaire.visits.course_chart import Labels, Scale, course_chart

SVG = "{http://www.w3.org/2000/svg}"
LABELS = Labels("PHQ-9 totals", "baseline", "half of baseline", "remission (below 5)")
START = datetime(2027, 1, 4, 9, 30)


def draw(totals: list[int], *, max_total: int = 27, phq9: bool = True) -> ET.Element:
    points = [(START + timedelta(days=3 * i), total) for i, total in enumerate(totals)]
    svg = course_chart(
        points, max_total=max_total, baseline=totals[0], labels=LABELS, response_and_remission=phq9
    )
    return ET.fromstring(str(svg))  # noqa: S314


def line_y(svg: ET.Element, kind: str) -> float | None:
    found = svg.find(f"{SVG}line[@class='{kind}']")
    return None if found is None else float(found.get("y1", "nan"))


def plotted(svg: ET.Element) -> list[int]:
    return [int(c.get("data-total", "-1")) for c in svg.iter(f"{SVG}circle")]


def scale_for(totals: list[int], max_total: int = 27) -> Scale:
    return Scale(START, START + timedelta(days=3 * (len(totals) - 1)), max_total)


def test_a_course_that_responds() -> None:
    totals = [20, 14, 9]
    svg, scale = draw(totals), scale_for(totals)
    assert plotted(svg) == totals
    assert line_y(svg, "baseline") == round(scale.y(20), 1)
    assert line_y(svg, "response") == round(scale.y(10), 1)
    # The last point lies on or below the response line (a higher y is a lower total).
    last = list(svg.iter(f"{SVG}circle"))[-1]
    assert float(last.get("cy", "0")) >= round(scale.y(10), 1)
    polyline = svg.find(f"{SVG}polyline[@class='totals']")
    assert polyline is not None
    xs = [float(p.split(",")[0]) for p in polyline.get("points", "").split()]
    assert xs == sorted(xs) and len(xs) == 3


def test_a_course_that_remits() -> None:
    totals = [16, 8, 4]
    svg, scale = draw(totals), scale_for(totals)
    assert line_y(svg, "remission") == round(scale.y(5), 1)
    last = list(svg.iter(f"{SVG}circle"))[-1]
    assert float(last.get("cy", "0")) > round(scale.y(5), 1)  # below 5
    words = [t.text for t in svg.iter(f"{SVG}text")]
    assert {"baseline", "half of baseline", "remission (below 5)"} <= set(words)


def test_a_course_that_worsens() -> None:
    totals = [12, 10, 17]
    svg, scale = draw(totals), scale_for(totals)
    last = list(svg.iter(f"{SVG}circle"))[-1]
    assert float(last.get("cy", "0")) < round(scale.y(12), 1)  # above the baseline
    assert [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "value"] == [
        "12",
        "10",
        "17",
    ]


def test_the_gad7_and_a_low_baseline_draw_no_response_or_remission_line() -> None:
    gad7 = draw([12, 6], max_total=21, phq9=False)
    assert line_y(gad7, "baseline") is not None
    assert line_y(gad7, "response") is None and line_y(gad7, "remission") is None
    low = draw([8, 3])
    assert line_y(low, "response") is None and line_y(low, "remission") is None


def test_one_point_sits_in_the_middle_and_nothing_draws_nothing() -> None:
    svg = draw([15])
    circle = svg.find(f"{SVG}circle")
    assert circle is not None and plotted(svg) == [15]
    assert (
        course_chart([], max_total=27, baseline=None, labels=LABELS, response_and_remission=True)
        == ""
    )


def test_labels_are_escaped_and_the_image_is_named() -> None:
    hostile = Labels("<script>x</script>", "a&b", "c", "d")
    points = [(START, 14), (START + timedelta(days=7), 6)]
    svg = str(
        course_chart(points, max_total=27, baseline=14, labels=hostile, response_and_remission=True)
    )
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "a&amp;b" in svg
    root = ET.fromstring(svg)  # noqa: S314
    assert root.get("role") == "img" and root.find(f"{SVG}title") is not None


def test_fifty_visits_keep_the_date_labels_few() -> None:
    svg = draw([20 - (i % 15) for i in range(50)])
    assert len(plotted(svg)) == 50
    assert len([t for t in svg.iter(f"{SVG}text") if t.get("class") == "date"]) <= 9


def test_line_names_end_inside_the_chart_whatever_their_length() -> None:
    # French names ran off the right edge when they began beside the line's end.
    long = Labels(
        "t", "valeur de départ", "moitié de la valeur de départ", "rémission (moins de 5)"
    )
    points = [(START, 20), (START + timedelta(days=7), 8)]
    root = ET.fromstring(  # noqa: S314
        str(
            course_chart(
                points, max_total=27, baseline=20, labels=long, response_and_remission=True
            )
        )
    )
    width = float(root.get("viewBox", "0 0 0 0").split()[2])
    named = [
        t
        for t in root.iter(f"{SVG}text")
        if t.text in {"valeur de départ", "moitié de la valeur de départ", "rémission (moins de 5)"}
    ]
    assert len(named) == 3
    for text in named:
        assert text.get("text-anchor") == "end" and float(text.get("x", "0")) <= width
