"""A goal's record read from only its first, its last and its status events is the record of its
whole history: what lets the FHIR routes read a handful of envelopes, not every check-in."""

from hypothesis import given, settings

from domain.goals.events import GoalEvent
from domain.goals.record import STATUS_EVENT_TYPES, goal_record, recorded
from infra.goals import codec
from tests.unit.goals.fhir_histories import Stamped, stamped_histories


def _as_stored(event: GoalEvent) -> str:
    return codec.event_type(event)


@settings(max_examples=200, deadline=None)
@given(stamped_histories())
def test_the_status_events_with_the_first_and_last_give_the_whole_record(
    history: list[Stamped],
) -> None:
    last = len(history) - 1
    kept = [
        item
        for index, item in enumerate(history)
        if index in {0, last} or _as_stored(item[0]) in STATUS_EVENT_TYPES
    ]
    assert goal_record(kept) == goal_record(history)


@settings(max_examples=200, deadline=None)
@given(stamped_histories())
def test_only_status_events_move_the_status_date(history: list[Stamped]) -> None:
    record = None
    for event, stamp in history:
        after = recorded(record, event, stamp)
        if record is not None and after.status_since != record.status_since:
            assert _as_stored(event) in STATUS_EVENT_TYPES
        record = after
