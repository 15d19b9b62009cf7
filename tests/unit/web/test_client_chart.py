"""The goal page's chart: bars grow with what was done, targets are marked, and the words say
the same as the picture."""

from datetime import date

from domain.goals.progress import Period
from services.web.client_chart import HEIGHT, progress_chart


def _week(day: int, done: float, target: float = 3) -> Period:
    start = date(2026, 11, day)
    return Period(start, date(2026, 11, day + 7), done, target, done >= target, 0)


def test_a_bar_is_as_tall_as_what_was_done_against_the_same_scale() -> None:
    chart = progress_chart([_week(2, 1), _week(9, 3), _week(16, 0)], "per_week", "walks")
    one, three, none = chart.bars
    assert three.height == 3 * one.height
    assert none.height == 0
    assert three.target_y == one.target_y == three.y  # the target reached, exactly
    assert [bar.met for bar in chart.bars] == [False, True, False]
    assert all(bar.y + bar.height == chart.baseline < HEIGHT for bar in chart.bars)
    assert [row.met_text for row in chart.rows] == ["No", "Yes", "Not yet"]
    assert chart.rows[0].period_text == "Week of 2 Nov"
    assert (
        chart.description
        == "Week of 16 Nov: 0 of 3 walks. Target reached in 1 of the 3 periods shown."
    )


def test_more_than_the_target_stretches_the_scale_to_fit() -> None:
    chart = progress_chart([_week(2, 6)], "per_week", "walks")
    (bar,) = chart.bars
    assert bar.y < bar.target_y  # above the target line, inside the picture
    assert bar.y > 0


def test_no_periods_yet_is_said_in_words() -> None:
    chart = progress_chart([], "per_day", "walks")
    assert chart.bars == []
    assert chart.description == "No periods yet: the goal starts later."
