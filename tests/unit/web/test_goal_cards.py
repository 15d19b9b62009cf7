"""A goal's card in plain, kind words."""

from datetime import date
from uuid import uuid4

from domain.goals.terms import Measure
from services.api.progress.schemas import GoalSummaryOut, ThisPeriod
from services.web.goal_cards import goal_card


def _summary(status: str = "active", streak: int = 0, done: float = 1) -> GoalSummaryOut:
    return GoalSummaryOut(
        goal_id=uuid4(),
        client_id=uuid4(),
        statement="Walk for 30 minutes",
        life_area="physical_health",
        status=status,
        achievement_status="in-progress",
        measure=Measure("count", 3, "walks", "per_week"),
        this_period=ThisPeriod(date(2026, 11, 23), date(2026, 11, 30), done, 3),
        streak=streak,
        last_check_in_at=None,
        due_date=date(2027, 1, 25),
        days_to_due=60,
        version=2,
    )


def test_an_active_goal_shows_this_periods_progress_and_takes_check_ins() -> None:
    card = goal_card(_summary(streak=2))
    assert (card.period_name, card.progress_text) == ("This week", "1 of 3 walks")
    assert card.streak_text == "2 weeks in a row"
    assert card.due_text == "25 January 2027 (in 60 days)"
    assert card.status_text is None
    assert card.check_in is not None
    assert card.check_in.amount_label == "How many walks"


def test_a_missed_goal_is_not_this_time_and_takes_no_check_in() -> None:
    card = goal_card(_summary(status="missed"))
    assert card.status_text == "Not this time"
    assert card.check_in is None


def test_the_bar_never_runs_past_the_target() -> None:
    card = goal_card(_summary(done=5))
    assert card.progress_text == "5 of 3 walks"
    assert card.done == card.target == 3
