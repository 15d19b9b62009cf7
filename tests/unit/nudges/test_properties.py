"""Properties of the policy over many random people, nudges and moments: nothing is sent in
quiet hours, nobody gets more than their cap in a local day, and the same findings have the same
keys."""

import uuid
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.goals.progress import CountedCheckIn, series
from domain.nudges.delivery import Defer, Drop, Pending, Send, plan
from domain.nudges.nudge import PRIORITY
from domain.nudges.preferences import Preferences, in_quiet_hours, local_time
from domain.nudges.scan import current_period, goal_nudges
from tests.unit.nudges.builders import facts, goal_terms

ZONES = st.sampled_from(
    [
        "UTC",
        "Europe/Berlin",
        "America/New_York",
        "Australia/Lord_Howe",
        "Asia/Kathmandu",
        "America/Santiago",
        "Pacific/Chatham",
    ]
)
CLOCKS = st.times().map(lambda moment: moment.replace(second=0, microsecond=0))
# Hypothesis takes naive bounds and attaches the zone itself.
_FIRST, _LAST = datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 12, 31, tzinfo=UTC)
MOMENTS = st.datetimes(
    min_value=_FIRST.replace(tzinfo=None),
    max_value=_LAST.replace(tzinfo=None),
    timezones=st.just(UTC),
)


@st.composite
def preferences(draw: st.DrawFn) -> Preferences:
    return Preferences(
        time_zone=draw(ZONES),
        quiet_start=draw(CLOCKS),
        quiet_end=draw(CLOCKS),
        daily_cap=draw(st.integers(1, 5)),
    )


@st.composite
def pending(draw: st.DrawFn, around: datetime) -> Pending:
    deliver_at = around + timedelta(minutes=draw(st.integers(-3000, 3000)))
    stale_after = draw(st.none() | st.integers(1, 4000))
    return Pending(
        uuid.UUID(int=draw(st.integers(0, 2**64))),
        draw(st.sampled_from(list(PRIORITY))),
        None,
        deliver_at,
        None if stale_after is None else deliver_at + timedelta(minutes=stale_after),
    )


@settings(max_examples=300, deadline=None)
@given(data=st.data(), person=preferences(), now=MOMENTS, sent_today=st.integers(0, 6))
def test_nothing_is_sent_in_quiet_hours_nor_past_the_cap(
    data: st.DataObject, person: Preferences, now: datetime, sent_today: int
) -> None:
    nudges = data.draw(st.lists(pending(now), max_size=8, unique_by=lambda n: n.nudge_id))

    decisions = plan(nudges, person, sent_today, now)

    sent = [decision for decision in decisions if isinstance(decision, Send)]
    assert len(decisions) == len(nudges)
    assert len(sent) <= max(person.daily_cap - sent_today, 0)
    if sent:
        assert not in_quiet_hours(now, person)
    for decision in decisions:
        if isinstance(decision, Defer):
            assert decision.until > now


@settings(max_examples=150, deadline=None)
@given(data=st.data(), person=preferences(), start=MOMENTS)
def test_over_days_of_passes_nobody_gets_more_than_their_cap_in_a_local_day(
    data: st.DataObject, person: Preferences, start: datetime
) -> None:
    """A delivery pass every few minutes to hours, as the scan makes them, over a few days."""
    waiting = data.draw(st.lists(pending(start), max_size=12, unique_by=lambda n: n.nudge_id))
    sent_on: Counter[date] = Counter()
    now = start
    for step in data.draw(st.lists(st.integers(1, 600), min_size=1, max_size=40)):
        now += timedelta(minutes=step)
        today = local_time(now, person.time_zone).date()
        due = [nudge for nudge in waiting if nudge.deliver_at <= now]
        for decision in plan(due, person, sent_on[today], now):
            nudge = next(n for n in waiting if n.nudge_id == decision.nudge_id)
            if isinstance(decision, Defer):
                waiting[waiting.index(nudge)] = Pending(
                    nudge.nudge_id, nudge.kind, None, decision.until, nudge.stale_at
                )
                continue
            waiting.remove(nudge)
            if isinstance(decision, Send):
                assert not in_quiet_hours(now, person)
                sent_on[today] += 1
            else:
                assert isinstance(decision, Drop)
    assert all(count <= person.daily_cap for count in sent_on.values())


@settings(max_examples=200, deadline=None)
@given(
    zone=ZONES,
    reminder=CLOCKS,
    moment=MOMENTS,
    later=st.integers(0, 24 * 60),
    cadence=st.sampled_from(["per_day", "per_week", "per_month", "by_due_date"]),
)
def test_the_same_findings_have_the_same_keys_at_any_moment_of_their_period(
    zone: str, reminder: time, moment: datetime, later: int, cadence: str
) -> None:
    day = local_time(moment, zone).date()
    goal = facts(
        goal_terms(
            start=day - timedelta(days=40),
            due=day + timedelta(days=2),
            cadence=cadence,  # type: ignore[arg-type]
            zone=zone,
        )
    )
    first = goal_nudges(goal, reminder, moment)
    again = goal_nudges(goal, reminder, moment)
    later_the_same_day = moment + timedelta(minutes=later)

    assert first == again
    assert len({nudge.key for nudge in first}) == len(first)
    # A scan later the same day finds the same nudges again, under the same keys.
    if local_time(later_the_same_day, zone).date() == day:
        after = goal_nudges(goal, reminder, later_the_same_day)
        assert {nudge.key for nudge in first} <= {nudge.key for nudge in after}


@settings(max_examples=200, deadline=None)
@given(
    zone=ZONES,
    cadence=st.sampled_from(["per_day", "per_week", "per_month", "by_due_date"]),
    moment=MOMENTS,
    offsets=st.lists(st.integers(-50 * 24 * 60, 24 * 60), max_size=12),
)
def test_the_scanscurrent_period_is_the_one_the_progress_series_ends_with(
    zone: str, cadence: str, moment: datetime, offsets: list[int]
) -> None:
    day = local_time(moment, zone).date()
    terms = goal_terms(
        start=day - timedelta(days=45),
        due=day + timedelta(days=10),
        cadence=cadence,  # type: ignore[arg-type]
        zone=zone,
    )
    check_ins = tuple(
        CountedCheckIn(1, moment + timedelta(minutes=offset))
        for offset in offsets
        if local_time(moment + timedelta(minutes=offset), zone).date() >= terms.start_date
    )

    assert current_period(terms, check_ins, day) == series(terms, check_ins, day, periods=1)[-1]
