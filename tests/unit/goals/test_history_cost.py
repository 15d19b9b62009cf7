"""A goal's fold stays the same size however many check-ins it holds, and its detail keeps the
latest check-ins and the totals of all of them exactly, corrections included."""

from datetime import timedelta
from uuid import UUID

import msgspec
from hypothesis import given as for_all
from hypothesis import strategies as st

from domain.goals.events import CorrectionRecorded, GoalEvent, ProgressRecorded
from domain.goals.state import Goal, fold
from domain.goals.view import (
    RECENT_CHECK_INS,
    CheckIn,
    CheckInTotals,
    GoalDetail,
    advance,
    check_in_totals,
    goal_detail,
    with_totals,
)
from tests.unit.goals.builders import (
    CHECK_IN_AT,
    check_in_corrected,
    goal_paused,
    goal_resumed,
    goal_set,
    progress_recorded,
)

_encode = msgspec.msgpack.Encoder().encode


def _history(check_ins: int) -> list[GoalEvent]:
    return [
        goal_set(),
        *(
            progress_recorded(UUID(int=n + 1), amount=1.0, occurred_at=CHECK_IN_AT)
            for n in range(check_ins)
        ),
    ]


def test_the_state_is_the_same_size_after_ten_check_ins_as_after_a_thousand() -> None:
    few, many = fold(_history(10)), fold(_history(1_000))

    assert isinstance(few, Goal)
    assert isinstance(many, Goal)
    assert len(_encode(many)) - len(_encode(few)) <= 2  # the count's own bytes
    assert many.check_ins_recorded == 1_000


def test_the_detail_is_the_same_size_after_ten_check_ins_as_after_a_thousand() -> None:
    few, many = goal_detail(_history(10)), goal_detail(_history(1_000))

    assert few is not None
    assert many is not None
    assert len(many.check_ins) == len(few.check_ins) == RECENT_CHECK_INS
    assert len(_encode(many)) - len(_encode(few)) <= 8  # the totals' own bytes
    assert (many.check_in_count, many.progress_total) == (1_000, 1_000.0)


def test_a_correction_leaves_the_totals_unknown_until_they_are_counted() -> None:
    events = _history(3)
    detail = goal_detail(events)
    assert detail is not None

    corrected = advance(detail, [check_in_corrected(UUID(int=1))])

    assert not corrected.totals_known
    assert corrected.check_ins[0].entered_in_error
    counted = with_totals(corrected, check_in_totals([*events, check_in_corrected(UUID(int=1))]))
    assert counted.totals_known
    assert (counted.check_in_count, counted.progress_total) == (2, 2.0)


# --- against a model that keeps every check-in -------------------------------------------------

_IDS = [UUID(int=n) for n in range(1, 25)]
_steps = st.lists(
    st.tuples(
        st.sampled_from(["check_in", "correct", "pause_resume"]),
        st.sampled_from(_IDS),
        st.sampled_from([1.0, 2.5, 0.1, 0.2, 7.0]),
        st.integers(min_value=-48, max_value=48),
    ),
    max_size=60,
)


def _events(steps: list[tuple[str, UUID, float, int]]) -> list[GoalEvent]:
    """A history a log could hold: each check-in id once, each check-in corrected at most once,
    after it was recorded."""
    events: list[GoalEvent] = [goal_set()]
    recorded: set[UUID] = set()
    corrected: set[UUID] = set()
    for kind, check_in_id, amount, hours in steps:
        if kind == "check_in" and check_in_id not in recorded:
            moment = CHECK_IN_AT + timedelta(hours=hours)
            events.append(progress_recorded(check_in_id, amount=amount, occurred_at=moment))
            recorded.add(check_in_id)
        elif kind == "correct" and check_in_id in recorded - corrected:
            events.append(check_in_corrected(check_in_id))
            corrected.add(check_in_id)
        elif kind == "pause_resume":
            events.extend([goal_paused(), goal_resumed()])
    return events


def _model(events: list[GoalEvent]) -> tuple[CheckInTotals, tuple[CheckIn, ...]]:
    """Every check-in kept, in order, and the totals and latest ones worked out from them."""
    kept: list[CheckIn] = []
    for event in events:
        if isinstance(event, ProgressRecorded):
            kept.append(CheckIn(event.check_in_id, event.amount, event.occurred_at, event.note))
        elif isinstance(event, CorrectionRecorded) and event.check_in_id is not None:
            kept = [
                msgspec.structs.replace(item, entered_in_error=True)
                if item.check_in_id == event.check_in_id
                else item
                for item in kept
            ]
    counted = [item for item in kept if not item.entered_in_error]
    totals = CheckInTotals(
        progress_total=sum((item.amount for item in counted), 0.0),
        check_in_count=len(counted),
        last_check_in_at=max((item.occurred_at for item in counted), default=None),
    )
    return totals, tuple(kept[-RECENT_CHECK_INS:])


def _totals(detail: GoalDetail) -> CheckInTotals:
    return CheckInTotals(detail.progress_total, detail.check_in_count, detail.last_check_in_at)


@for_all(_steps)
def test_the_detail_of_all_the_events_matches_a_model_that_keeps_every_check_in(
    steps: list[tuple[str, UUID, float, int]],
) -> None:
    events = _events(steps)
    detail = goal_detail(events)

    assert detail is not None
    assert detail.totals_known
    totals, latest = _model(events)
    assert _totals(detail) == totals
    assert detail.check_ins == latest


@for_all(_steps, st.data())
def test_a_detail_advanced_from_any_earlier_one_and_counted_is_the_whole_fold(
    steps: list[tuple[str, UUID, float, int]], data: st.DataObject
) -> None:
    events = _events(steps)
    split = data.draw(st.integers(min_value=1, max_value=len(events)))
    earlier = goal_detail(events[:split])
    assert earlier is not None

    advanced = advance(earlier, events[split:])
    if not advanced.totals_known:
        advanced = with_totals(advanced, check_in_totals(events))

    assert advanced == goal_detail(events)
    assert fold(events[split:], fold(events[:split])) == fold(events)
