"""Delivery: quiet hours in the person's own time zone, across daylight-saving changes; the
daily cap; opt-outs; staleness."""

import uuid
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from domain.nudges.delivery import Defer, Drop, Pending, Send, plan
from domain.nudges.preferences import Preferences, in_quiet_hours, quiet_hours_end

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"


def local(zone: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone))


def pending(kind: str = "check_in_reminder", **fields: object) -> Pending:
    values: dict[str, object] = {
        "nudge_id": uuid.uuid4(),
        "kind": kind,
        "goal_id": uuid.uuid4(),
        "deliver_at": datetime(2026, 1, 1, tzinfo=UTC),
        "stale_at": None,
    }
    return Pending(**(values | fields))  # type: ignore[arg-type]


def test_quiet_hours_are_the_persons_own() -> None:
    berlin, new_york = Preferences(BERLIN), Preferences(NEW_YORK)
    moment = local(BERLIN, 2026, 5, 4, 22, 0)  # 16:00 in New York

    assert in_quiet_hours(moment, berlin)
    assert not in_quiet_hours(moment, new_york)


def test_quiet_hours_may_sit_inside_one_day_or_be_none() -> None:
    lunch = Preferences(BERLIN, quiet_start=time(12), quiet_end=time(13))
    none = Preferences(BERLIN, quiet_start=time(9), quiet_end=time(9))

    assert in_quiet_hours(local(BERLIN, 2026, 5, 4, 12, 30), lunch)
    assert not in_quiet_hours(local(BERLIN, 2026, 5, 4, 23, 30), lunch)
    assert not in_quiet_hours(local(BERLIN, 2026, 5, 4, 3, 0), none)


def test_a_nudge_in_quiet_hours_waits_for_the_local_morning() -> None:
    nudge = pending()
    night = local(NEW_YORK, 2026, 5, 4, 23, 10)

    (decision,) = plan([nudge], Preferences(NEW_YORK), 0, night)

    assert decision == Defer(nudge.nudge_id, local(NEW_YORK, 2026, 5, 5, 8, 0), "quiet_hours")


def test_the_morning_after_spring_forward_is_eight_local_eight_hours_later() -> None:
    # Berlin moves from 02:00 to 03:00 on 29 March 2026: the night is an hour shorter.
    night = local(BERLIN, 2026, 3, 28, 23, 0)

    morning = quiet_hours_end(night, Preferences(BERLIN))

    assert morning == local(BERLIN, 2026, 3, 29, 8, 0)
    assert morning.astimezone(UTC) - night.astimezone(UTC) == timedelta(hours=8)
    assert morning.astimezone(UTC) == datetime(2026, 3, 29, 6, 0, tzinfo=UTC)


def test_the_morning_after_fall_back_is_eight_local_ten_hours_later() -> None:
    # New York moves from 02:00 back to 01:00 on 1 November 2026.
    night = local(NEW_YORK, 2026, 10, 31, 23, 0)

    morning = quiet_hours_end(night, Preferences(NEW_YORK))

    assert morning.astimezone(UTC) == datetime(2026, 11, 1, 13, 0, tzinfo=UTC)
    assert morning.astimezone(UTC) - night.astimezone(UTC) == timedelta(hours=10)


def test_quiet_hours_ending_in_the_skipped_hour_end_when_the_clock_resumes() -> None:
    early = Preferences(BERLIN, quiet_start=time(22), quiet_end=time(2, 30))
    night = local(BERLIN, 2026, 3, 28, 23, 0)

    morning = quiet_hours_end(night, early)

    assert morning.astimezone(UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 CEST
    assert not in_quiet_hours(morning, early)


def test_the_cap_sends_what_matters_most_and_moves_the_rest_to_tomorrow() -> None:
    reminder, due_soon = pending("check_in_reminder"), pending("due_soon")
    celebration, encouragement = pending("celebration"), pending("encouragement")
    noon = local(BERLIN, 2026, 5, 4, 12, 0)

    decisions = plan([reminder, due_soon, celebration, encouragement], Preferences(BERLIN), 1, noon)

    tomorrow = local(BERLIN, 2026, 5, 5, 8, 0)
    assert decisions == [
        Send(encouragement.nudge_id, ("in_app", "email")),
        Send(celebration.nudge_id, ("in_app", "email")),
        Defer(due_soon.nudge_id, tomorrow, "daily_cap"),
        Defer(reminder.nudge_id, tomorrow, "daily_cap"),
    ]


def test_without_quiet_hours_the_next_day_starts_at_midnight() -> None:
    always = Preferences(BERLIN, quiet_start=time(0), quiet_end=time(0), daily_cap=1)
    nudge = pending()

    (decision,) = plan([nudge], always, 1, local(BERLIN, 2026, 5, 4, 12, 0))

    assert decision == Defer(nudge.nudge_id, local(BERLIN, 2026, 5, 5, 0, 0), "daily_cap")


def test_opt_outs_and_staleness_drop_with_the_reason() -> None:
    noon = local(BERLIN, 2026, 5, 4, 12, 0)
    muted_goal = uuid.uuid4()
    stale = pending(stale_at=noon)
    muted = pending(goal_id=muted_goal)
    fresh = pending(stale_at=noon + timedelta(seconds=1))

    decisions = plan(
        [stale, muted, fresh], Preferences(BERLIN, muted_goals=frozenset({muted_goal})), 0, noon
    )
    nothing_on = plan([pending()], Preferences(BERLIN, in_app=False, email=False), 0, noon)

    assert Drop(stale.nudge_id, "stale") in decisions
    assert Drop(muted.nudge_id, "goal_muted") in decisions
    assert Send(fresh.nudge_id, ("in_app", "email")) in decisions
    assert [
        (type(decision), decision.reason) for decision in nothing_on if isinstance(decision, Drop)
    ] == [(Drop, "all_channels_off")]
    by_email = pending()
    assert plan([by_email], Preferences(BERLIN, in_app=False), 0, noon) == [
        Send(by_email.nudge_id, ("email",))
    ]
