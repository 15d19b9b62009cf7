from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import msgspec
import pytest

from domain.goals.attainment import t_score
from domain.goals.caseload import client_flags
from domain.goals.progress import CountedCheckIn
from domain.goals.summary import GoalSummary
from tests.unit.progress.test_periods import walking

NOW = datetime(2026, 3, 25, 12, tzinfo=UTC)


def test_three_goals_rated_one_better_than_expected_score_63_7() -> None:
    assert t_score([1, 1, 1]) == pytest.approx(63.69, abs=0.01)


def test_expected_outcomes_score_50_and_no_ratings_score_nothing() -> None:
    assert t_score([0, 0]) == 50
    assert t_score([]) is None


def test_weights_count_and_must_match_the_ratings() -> None:
    assert t_score([2, -2], weights=[3, 1]) == pytest.approx(50 + 10 * 4 / (7.0 + 4.8) ** 0.5)
    with pytest.raises(ValueError, match="one weight per rating"):
        t_score([1, 1], weights=[1])


def summary(**overrides: object) -> GoalSummary:
    base = {
        "goal_id": uuid4(),
        "clinic_id": uuid4(),
        "client_id": uuid4(),
        "terms": walking(),
        "status": "active",
        "set_at": NOW - timedelta(days=20),
        "version": 1,
        "last_position": 1,
    }
    return GoalSummary(**{**base, **overrides})  # type: ignore[arg-type]


def test_a_quiet_client_behind_pace_is_flagged() -> None:
    goal = summary(last_check_in_at=NOW - timedelta(days=8))

    flags = client_flags([goal], {}, NOW)

    assert flags.no_recent_check_in
    assert flags.behind_pace
    assert not flags.due_soon
    assert flags.count == 2


def test_a_client_on_pace_with_a_recent_check_in_is_not_flagged() -> None:
    goal = summary(last_check_in_at=NOW - timedelta(days=1))
    this_week = [CountedCheckIn(1, NOW - timedelta(hours=hours)) for hours in (1, 20, 40)]

    flags = client_flags([goal], {goal.goal_id: this_week}, NOW)

    assert flags.count == 0


def test_due_soon_and_recent_misses_are_flagged() -> None:
    due = summary(
        last_check_in_at=NOW,
        terms=msgspec.structs.replace(walking(), due_date=date(2026, 3, 30)),
    )
    missed = summary(status="missed", ended_at=NOW - timedelta(days=3))
    long_ago = summary(status="missed", ended_at=NOW - timedelta(days=30))

    assert client_flags([due], {due.goal_id: []}, NOW).due_soon
    assert client_flags([missed], {}, NOW).recently_missed
    assert not client_flags([long_ago], {}, NOW).recently_missed
