"""Periods in the client's own time: weeks from local Monday 00:00, across daylight saving."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from domain.goals.progress import (
    CountedCheckIn,
    achievement_status,
    expected_by_now,
    period_start,
    series,
    streak,
)
from domain.goals.terms import GoalTerms, Measure

BERLIN = "Europe/Berlin"


def walking(cadence: str = "per_week", zone: str = BERLIN, kind: str = "count") -> GoalTerms:
    return GoalTerms(
        statement="Walk for 30 minutes",
        life_area="physical_health",
        values=(),
        measure=Measure(kind, 3, "walks", cadence),  # type: ignore[arg-type]
        cue=None,
        start_date=date(2026, 3, 2),
        due_date=date(2026, 6, 30),
        priority="medium",
        time_zone=zone,
    )


def at(zone: str, year: int, month: int, day: int, hour: int, minute: int = 0) -> CountedCheckIn:
    local = datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone))
    return CountedCheckIn(1, local.astimezone(UTC))


def test_a_check_in_just_after_local_monday_midnight_opens_the_new_week() -> None:
    # 00:30 on Monday in Berlin is still Sunday in UTC; the client's week has begun all the same.
    monday_early = at(BERLIN, 2026, 3, 16, 0, 30)

    periods = series(walking(), [monday_early], today=date(2026, 3, 18))

    assert [p.start for p in periods if p.done] == [date(2026, 3, 16)]


def test_the_week_that_holds_the_spring_daylight_saving_change_is_seven_local_days() -> None:
    # Clocks go forward in Berlin on 29 March 2026; the week of 23 March has 167 hours.
    sunday_night = at(BERLIN, 2026, 3, 29, 23, 59)
    next_monday = at(BERLIN, 2026, 3, 30, 0, 1)

    periods = series(walking(), [sunday_night, next_monday], today=date(2026, 4, 1))

    by_start = {p.start: p.done for p in periods}
    assert by_start[date(2026, 3, 23)] == 1
    assert by_start[date(2026, 3, 30)] == 1


def test_a_check_in_recorded_late_lands_in_the_day_it_happened() -> None:
    yesterday_evening = at("America/New_York", 2026, 3, 9, 21, 0)  # 01:00 UTC on the 10th

    periods = series(
        walking("per_day", "America/New_York"), [yesterday_evening], today=date(2026, 3, 12)
    )

    assert {p.start: p.done for p in periods}[date(2026, 3, 9)] == 1


def test_monthly_periods_follow_calendar_months() -> None:
    periods = series(walking("per_month"), [], today=date(2026, 5, 15))

    assert [(p.start, p.end) for p in periods] == [
        (date(2026, 3, 1), date(2026, 4, 1)),
        (date(2026, 4, 1), date(2026, 5, 1)),
        (date(2026, 5, 1), date(2026, 6, 1)),
    ]


def test_ratings_average_within_a_period() -> None:
    terms = walking("per_week", kind="rating_0_10")
    ratings = [
        CountedCheckIn(2, datetime(2026, 3, 3, 12, tzinfo=UTC)),
        CountedCheckIn(4, datetime(2026, 3, 4, 12, tzinfo=UTC)),
    ]

    (first, *_) = series(terms, ratings, today=date(2026, 3, 20))

    assert first.done == 3
    assert first.met is True


def test_streak_counts_met_weeks_back_from_now_and_spares_the_unfinished_one() -> None:
    three_a_week = [
        at(BERLIN, 2026, 3, day, 12) for week in (9, 16) for day in (week, week + 1, week + 2)
    ]

    periods = series(walking(), three_a_week, today=date(2026, 3, 24))

    assert [p.met for p in periods] == [False, True, True, False]
    assert streak(walking(), three_a_week, today=date(2026, 3, 24)) == 2


def test_a_window_of_periods_is_the_matching_slice_of_the_whole_series() -> None:
    checked = [at(BERLIN, 2026, 3, day, 12) for day in (3, 4, 10, 17, 18, 25)]
    today = date(2026, 4, 20)
    whole = series(walking(), checked, today)

    assert series(walking(), checked, today, periods=3) == whole[-3:]
    assert series(walking(), checked, today, periods=2, before=whole[-3].start) == whole[-5:-3]
    assert series(walking(), checked, today, periods=100) == whole
    assert series(walking(), checked, today, before=whole[0].start) == []


def test_achievement_status_compares_the_last_two_finished_periods() -> None:
    better = [at(BERLIN, 2026, 3, 10, 12), at(BERLIN, 2026, 3, 17, 12), at(BERLIN, 2026, 3, 18, 9)]

    periods = series(walking(), better, today=date(2026, 3, 24))

    assert achievement_status("active", periods, date(2026, 3, 24)) == "improving"
    assert achievement_status("active", periods[:1], date(2026, 3, 24)) == "in-progress"
    assert achievement_status("missed", periods, date(2026, 3, 24)) == "not-achieved"
    assert achievement_status("achieved", periods, date(2026, 3, 24)) == "achieved"


def test_pace_expects_a_share_of_the_target_by_the_elapsed_days() -> None:
    (week,) = series(walking(), [], today=date(2026, 3, 2))[:1]

    assert expected_by_now(week, date(2026, 3, 2)) == 0
    assert expected_by_now(week, date(2026, 3, 5)) == 3 * 3 / 7


@given(
    moment=st.datetimes(
        # Hypothesis takes naive bounds and attaches the zone itself.
        min_value=datetime(2026, 1, 1),  # noqa: DTZ001
        max_value=datetime(2027, 12, 31),  # noqa: DTZ001
        timezones=st.just(ZoneInfo("UTC")),
    ),
    zone=st.sampled_from([BERLIN, "America/New_York", "Australia/Sydney", "Asia/Kolkata"]),
)
def test_every_check_in_falls_in_the_week_of_its_local_monday(moment: datetime, zone: str) -> None:
    local = moment.astimezone(ZoneInfo(zone))
    start = period_start(local.date(), "per_week", date(2026, 1, 1))

    assert start.weekday() == 0
    assert start <= local.date() < start + timedelta(days=7)
    week_began = datetime.combine(start, datetime.min.time(), tzinfo=ZoneInfo(zone))
    assert week_began <= local
