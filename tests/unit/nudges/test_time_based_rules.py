"""Time-based rules with an injected clock: reminders at the cue's time or the client's own,
behind pace only; due soon; overdue; overload. Across time zones and daylight-saving changes."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from domain.nudges.cues import cue_time
from domain.nudges.scan import ClientLoad, goal_nudges, overload_nudge
from tests.unit.nudges.builders import CLIENT, CLINIC, GOAL, THERAPIST, facts, goal_terms

NINE = time(9)


def at(zone: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone))


@pytest.mark.parametrize(
    ("cue", "expected"),
    [
        ("at 7:30, after breakfast", time(7, 30)),
        ("every day at 6pm", time(18)),
        ("at 6.15 p.m. before dinner", time(18, 15)),
        ("12am snack", time(0)),
        ("18h30 when I get home", time(18, 30)),
        ("after lunch", None),
        ("3 times", None),
        (None, None),
    ],
)
def test_a_cue_names_a_time_or_none(cue: str | None, expected: time | None) -> None:
    assert cue_time(cue) == expected


def test_a_daily_goal_not_yet_done_is_reminded_at_its_cue_time_and_not_before() -> None:
    goal = facts(goal_terms(cue="at 7:30, after breakfast"))

    before = goal_nudges(goal, NINE, at("Europe/Berlin", 2026, 5, 4, 7, 29))
    (reminder,) = goal_nudges(goal, NINE, at("Europe/Berlin", 2026, 5, 4, 7, 30))

    assert before == []
    assert reminder.kind == "check_in_reminder"
    assert reminder.recipient_id == CLIENT
    assert reminder.deliver_at == at("Europe/Berlin", 2026, 5, 4, 7, 30)
    assert reminder.stale_at == at("Europe/Berlin", 2026, 5, 5, 0, 0)
    assert reminder.key == f"check_in_reminder:{GOAL}:2026-05-04:{CLIENT}"


def test_the_cue_time_holds_in_local_time_across_a_daylight_saving_change() -> None:
    goal = facts(goal_terms(cue="at 7:30"))
    # Berlin: UTC+1 on 28 March, UTC+2 from 29 March 2026.
    (before_change,) = goal_nudges(goal, NINE, datetime(2026, 3, 28, 7, 0, tzinfo=UTC))
    (after_change,) = goal_nudges(goal, NINE, datetime(2026, 3, 29, 6, 0, tzinfo=UTC))

    assert before_change.deliver_at.astimezone(UTC) == datetime(2026, 3, 28, 6, 30, tzinfo=UTC)
    assert after_change.deliver_at.astimezone(UTC) == datetime(2026, 3, 29, 5, 30, tzinfo=UTC)
    assert goal_nudges(goal, NINE, datetime(2026, 3, 29, 5, 29, tzinfo=UTC)) == []


def test_without_a_cue_time_the_clients_own_reminder_time_holds() -> None:
    goal = facts(goal_terms(cue="after lunch", zone="Asia/Kolkata"))

    assert goal_nudges(goal, time(18), at("Asia/Kolkata", 2026, 5, 4, 17, 59)) == []
    (reminder,) = goal_nudges(goal, time(18), at("Asia/Kolkata", 2026, 5, 4, 18, 0))
    assert reminder.deliver_at == at("Asia/Kolkata", 2026, 5, 4, 18, 0)


def test_a_goal_on_pace_gets_no_reminder() -> None:
    done_today = facts(goal_terms(), (at("Europe/Berlin", 2026, 5, 4, 7, 0),))
    # Weekly, 3 times: by Wednesday's start a steady pace has 2 of 7 days, 0.86 of a walk.
    weekly = goal_terms(cadence="per_week", target=3)
    one_walk = facts(weekly, (at("Europe/Berlin", 2026, 5, 4, 7, 0),))
    no_walk = facts(weekly)
    wednesday = at("Europe/Berlin", 2026, 5, 6, 10, 0)

    assert goal_nudges(done_today, NINE, at("Europe/Berlin", 2026, 5, 4, 10, 0)) == []
    assert goal_nudges(one_walk, NINE, wednesday) == []
    (reminder,) = goal_nudges(no_walk, NINE, wednesday)
    assert reminder.key == f"check_in_reminder:{GOAL}:2026-05-04:{CLIENT}"
    assert reminder.stale_at == at("Europe/Berlin", 2026, 5, 11, 0, 0)
    # Monday: nothing is behind yet.
    assert goal_nudges(no_walk, NINE, at("Europe/Berlin", 2026, 5, 4, 10, 0)) == []


def test_due_soon_comes_in_the_days_before_the_due_date_as_configured() -> None:
    goal = facts(goal_terms(due=date(2026, 5, 10), cadence="by_due_date"), ())

    def kinds(day: int, window: int = 3) -> list[str]:
        moment = at("Europe/Berlin", 2026, 5, day, 9, 0)
        return [
            nudge.kind
            for nudge in goal_nudges(goal, NINE, moment, window)
            if nudge.kind != "check_in_reminder"
        ]

    assert kinds(6) == []
    assert kinds(7) == ["due_soon"]
    assert kinds(9) == ["due_soon"]
    assert kinds(10) == []
    assert kinds(5, window=5) == ["due_soon"]


def test_overdue_asks_the_client_and_each_therapist_the_day_after() -> None:
    other_therapist = THERAPIST.__class__(int=9)
    goal = facts(goal_terms(due=date(2026, 5, 10)), therapists=(THERAPIST, other_therapist))

    assert goal_nudges(goal, NINE, at("Europe/Berlin", 2026, 5, 11, 8, 59)) == []
    found = goal_nudges(goal, NINE, at("Europe/Berlin", 2026, 5, 20, 9, 0))

    assert {(nudge.kind, nudge.recipient_id) for nudge in found} == {
        ("overdue", CLIENT),
        ("overdue", THERAPIST),
        ("overdue", other_therapist),
    }
    assert len({nudge.key for nudge in found}) == 3


def test_only_active_goals_are_nudged() -> None:
    goal = facts(goal_terms())
    moment = at("Europe/Berlin", 2026, 5, 4, 10, 0)
    for status in ("paused", "achieved", "missed", "cancelled", "entered_in_error"):
        paused = goal.__class__(
            **{**{f: getattr(goal, f) for f in goal.__struct_fields__}, "status": status}
        )
        assert goal_nudges(paused, NINE, moment) == []


def test_overload_is_one_prompt_per_goal_past_the_limit() -> None:
    moment = datetime(2026, 5, 4, 10, tzinfo=UTC)
    within = ClientLoad(CLIENT, CLINIC, 5, GOAL, 5)
    past = ClientLoad(CLIENT, CLINIC, 6, GOAL, 5)

    assert overload_nudge(within, moment) is None
    nudge = overload_nudge(past, moment)
    assert nudge is not None
    assert nudge.recipient_id == CLIENT
    assert "6 active goals" in nudge.message
    assert nudge.key == f"overload:{CLIENT}:{GOAL}:{CLIENT}"
