"""A goal's progress per period as an inline SVG bar chart, with the same numbers as a table and
a sentence for screen readers: the geometry and words are worked out here, the template only
places them."""

from datetime import date

import msgspec

from domain.goals.progress import Period
from domain.goals.terms import Cadence

WIDTH = 480
HEIGHT = 240
_TOP = 24
_BOTTOM = 36
_SIDE = 12
_GAP = 0.25
"""The share of each slot left empty between bars."""
_WIDEST = 72


class Bar(msgspec.Struct, frozen=True):
    x: float
    y: float
    width: float
    height: float
    target_y: float
    middle: float
    value_text: str
    period_text: str
    met: bool


class Row(msgspec.Struct, frozen=True):
    period_text: str
    done_text: str
    target_text: str
    met_text: str


class Chart(msgspec.Struct, frozen=True):
    width: int
    height: int
    baseline: float
    bars: list[Bar]
    rows: list[Row]
    description: str


def number(value: float) -> str:
    return f"{value:g}"


def period_text(start: date, cadence: Cadence) -> str:
    if cadence == "per_day":
        return f"{start:%-d %b}"
    if cadence == "per_week":
        return f"Week of {start:%-d %b}"
    if cadence == "per_month":
        return f"{start:%B %Y}"
    return "So far"


def _short(start: date, cadence: Cadence) -> str:
    if cadence == "per_month":
        return f"{start:%b}"
    if cadence == "by_due_date":
        return "So far"
    return f"{start:%-d %b}"


def _description(periods: list[Period], cadence: Cadence, unit: str) -> str:
    if not periods:
        return "No periods yet: the goal starts later."
    latest = periods[-1]
    met = sum(1 for period in periods if period.met)
    said = (
        f"{period_text(latest.start, cadence)}: {number(latest.done)} of "
        f"{number(latest.target)} {unit}."
    )
    if len(periods) == 1:
        return said
    return f"{said} Target reached in {met} of the {len(periods)} periods shown."


def progress_chart(periods: list[Period], cadence: Cadence, unit: str) -> Chart:
    """Bars of what was done per period, oldest first, each with its target marked."""
    baseline = HEIGHT - _BOTTOM
    tallest = max([1.0, *(max(period.done, period.target) for period in periods)])
    scale = (baseline - _TOP) / tallest
    slot = (WIDTH - 2 * _SIDE) / max(len(periods), 1)
    bars = []
    for index, period in enumerate(periods):
        height = period.done * scale
        width = min(slot * (1 - _GAP), _WIDEST)
        middle = _SIDE + index * slot + slot / 2
        bars.append(
            Bar(
                x=round(middle - width / 2, 1),
                y=round(baseline - height, 1),
                width=round(width, 1),
                height=round(height, 1),
                target_y=round(baseline - period.target * scale, 1),
                middle=round(middle, 1),
                value_text=number(period.done),
                period_text=_short(period.start, cadence),
                met=period.met,
            )
        )
    rows = [
        Row(
            period_text(period.start, cadence),
            f"{number(period.done)} {unit}",
            f"{number(period.target)} {unit}",
            "Yes" if period.met else "Not yet" if period is periods[-1] else "No",
        )
        for period in periods
    ]
    return Chart(WIDTH, HEIGHT, baseline, bars, rows, _description(periods, cadence, unit))
