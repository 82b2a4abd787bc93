"""A course's PHQ-9 or GAD-7 totals as an SVG chart, drawn on the server.

No JavaScript and no colour that carries meaning alone: the totals are a solid line with
their numbers beside each point, the baseline is dashed, the response line (half the
baseline) dotted and the remission line (PHQ-9 below 5) long-dashed, each named above its
right end, so the chart reads the same printed in black and white. The page shows the same
numbers in a table for screen readers; the SVG is an image with a title that says what
it shows. Every text is escaped: labels come translated from the caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 36, 16, 14, 34
#: At most this many date labels under the axis; the others are in the table.
MAX_DATE_LABELS = 8


@dataclass(frozen=True, slots=True)
class Scale:
    """Where a date and a total fall on the chart."""

    first: datetime
    last: datetime
    max_total: int

    def x(self, when: datetime) -> float:
        """Return the horizontal position of a date (one point sits in the middle)."""
        span = (self.last - self.first).total_seconds()
        if span <= 0:
            return LEFT + (WIDTH - LEFT - RIGHT) / 2
        return LEFT + (WIDTH - LEFT - RIGHT) * (when - self.first).total_seconds() / span

    def y(self, total: float) -> float:
        """Return the vertical position of a total (0 at the bottom)."""
        return TOP + (HEIGHT - TOP - BOTTOM) * (1 - total / self.max_total)


@dataclass(frozen=True, slots=True)
class Labels:
    """The chart's words, already translated for the page."""

    title: str
    baseline: str
    response: str
    remission: str


def _n(value: float) -> str:
    return f"{value:.1f}"


def _hline(kind: str, y: float, label: str, dash: str) -> str:
    return (
        f'<line class="{kind}" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_n(y)}" y2="{_n(y)}" '
        f'stroke="#000" stroke-width="1" stroke-dasharray="{dash}"/>'
        # Named just above the line's right end, inside the plot: a label of any length in
        # any language stays on the chart (beside the line, French words were cut off).
        f'<text x="{WIDTH - RIGHT - 4}" y="{_n(y - 4)}" font-size="11" '
        f'text-anchor="end">{escape(label)}</text>'
    )


def course_chart(
    points: Sequence[tuple[datetime, int]],
    *,
    max_total: int,
    baseline: int | None,
    labels: Labels,
    response_and_remission: bool,
    date_format: str = "%Y-%m-%d",
) -> Markup:
    """Return the SVG of one instrument's totals over a course, with its reference lines."""
    if not points:
        return Markup("")
    scale = Scale(points[0][0], points[-1][0], max_total)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="course-chart" role="img" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" aria-label="{escape(labels.title)}">',
        f"<title>{escape(labels.title)}</title>",
        f'<line class="axis" x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{_n(scale.y(0))}" stroke="#000"/>',
        f'<line class="axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_n(scale.y(0))}" '
        f'y2="{_n(scale.y(0))}" stroke="#000"/>',
    ]
    for tick in range(0, max_total + 1, 5):
        parts.append(
            f'<text class="tick" x="{LEFT - 6}" y="{_n(scale.y(tick) + 4)}" font-size="11" '
            f'text-anchor="end">{tick}</text>'
        )
    if baseline is not None:
        parts.append(_hline("baseline", scale.y(baseline), labels.baseline, "6 4"))
        if response_and_remission and baseline >= 10:
            parts.append(_hline("response", scale.y(baseline / 2), labels.response, "2 3"))
            parts.append(_hline("remission", scale.y(5), labels.remission, "12 4"))
    coordinates = " ".join(f"{_n(scale.x(when))},{_n(scale.y(total))}" for when, total in points)
    parts.append(
        f'<polyline class="totals" points="{coordinates}" fill="none" stroke="#000" '
        f'stroke-width="2"/>'
    )
    step = max(1, -(-len(points) // MAX_DATE_LABELS))
    for index, (when, total) in enumerate(points):
        x, y = scale.x(when), scale.y(total)
        parts.append(
            f'<circle class="point" data-total="{total}" cx="{_n(x)}" cy="{_n(y)}" r="3.5" '
            f'fill="#000"/><text class="value" x="{_n(x)}" y="{_n(y - 7)}" font-size="11" '
            f'text-anchor="middle">{total}</text>'
        )
        if index % step == 0 or index == len(points) - 1:
            parts.append(
                f'<text class="date" x="{_n(x)}" y="{HEIGHT - BOTTOM + 16}" font-size="10" '
                f'text-anchor="middle">{escape(when.strftime(date_format))}</text>'
            )
    parts.append("</svg>")
    # Every value above is a number, a fixed word or escaped text.
    return Markup("".join(parts))  # noqa: S704  # nosec B704
