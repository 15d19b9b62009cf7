"""Events are stored as msgspec JSON and must decode, as the `GoalEvent` union, to equal values."""

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, get_args

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.goals.events import (
    CorrectionRecorded,
    GoalAchieved,
    GoalAdjusted,
    GoalCancelled,
    GoalEvent,
    GoalMissed,
    GoalPaused,
    GoalRated,
    GoalResumed,
    GoalSet,
    ProgressRecorded,
    SupporterAdded,
    SupporterRemoved,
    TermsChange,
)
from domain.goals.terms import (
    Cadence,
    GoalTerms,
    LifeArea,
    Measure,
    MeasureKind,
    MissCause,
    Priority,
)
from tests.unit.goals.builders import (
    CHECK_IN_ID,
    GOAL_ID,
    OTHER_GOAL_ID,
    SUPPORTER_ID,
    goal_set,
    measure,
    terms,
)

_DECODER: msgspec.json.Decoder[GoalEvent] = msgspec.json.Decoder(GoalEvent)


def _round_trip(event: GoalEvent) -> GoalEvent:
    return _DECODER.decode(msgspec.json.encode(event))


# One example of every event, with the tag it is stored under. Tags are never renamed.
_EXAMPLES: list[tuple[str, GoalEvent]] = [
    ("goal_set", goal_set()),
    ("goal_set", goal_set(replaces=OTHER_GOAL_ID, terms=terms(cue=None, values=()))),
    (
        "goal_adjusted",
        GoalAdjusted(
            GOAL_ID,
            TermsChange(cue="After breakfast", measure=measure(), due_date=date(2025, 6, 30)),
            TermsChange(cue=None, measure=measure(target=4.0), due_date=date(2025, 7, 31)),
            "Going well",
        ),
    ),
    (
        "progress_recorded",
        ProgressRecorded(
            GOAL_ID,
            CHECK_IN_ID,
            2.5,
            datetime(2025, 3, 9, 23, 30, 15, 123456, tzinfo=timezone(timedelta(hours=13))),
            "Rainy",
        ),
    ),
    (
        "progress_recorded",
        ProgressRecorded(GOAL_ID, CHECK_IN_ID, 1.0, datetime(2025, 3, 9, tzinfo=UTC)),
    ),
    ("goal_achieved", GoalAchieved(GOAL_ID, "Did it")),
    ("goal_achieved", GoalAchieved(GOAL_ID)),
    ("goal_missed", GoalMissed(GOAL_ID, "misaligned_with_values", "Not what mattered")),
    ("goal_paused", GoalPaused(GOAL_ID, "Holiday")),
    ("goal_resumed", GoalResumed(GOAL_ID)),
    ("goal_cancelled", GoalCancelled(GOAL_ID, "Moved away")),
    ("correction_recorded", CorrectionRecorded(GOAL_ID, "goal", "Wrong client")),
    ("correction_recorded", CorrectionRecorded(GOAL_ID, "check_in", "Typo", CHECK_IN_ID)),
    ("supporter_added", SupporterAdded(GOAL_ID, SUPPORTER_ID)),
    ("supporter_removed", SupporterRemoved(GOAL_ID, SUPPORTER_ID)),
    ("goal_rated", GoalRated(GOAL_ID, -2, "Much less than expected")),
    ("goal_rated", GoalRated(GOAL_ID, 0)),
]


def test_the_examples_cover_every_event_type() -> None:
    assert {type(event) for _, event in _EXAMPLES} == set(get_args(GoalEvent))


@pytest.mark.parametrize(
    ("tag", "event"),
    [pytest.param(tag, event, id=f"{tag}-{n}") for n, (tag, event) in enumerate(_EXAMPLES)],
)
def test_every_event_decodes_back_to_an_equal_value_under_its_tag(
    tag: str, event: GoalEvent
) -> None:
    encoded = msgspec.json.encode(event)

    assert msgspec.json.decode(encoded)["type"] == tag
    decoded = _DECODER.decode(encoded)
    assert type(decoded) is type(event)
    assert decoded == event


def test_a_terms_change_stores_only_the_fields_it_carries_and_keeps_a_cleared_cue() -> None:
    adjusted = GoalAdjusted(
        GOAL_ID, TermsChange(cue="After breakfast"), TermsChange(cue=None), "No cue"
    )

    stored = msgspec.json.decode(msgspec.json.encode(adjusted))

    assert stored["before"] == {"cue": "After breakfast"}
    assert stored["after"] == {"cue": None}
    decoded = _round_trip(adjusted)
    assert isinstance(decoded, GoalAdjusted)
    assert decoded.after.cue is None
    assert decoded.after.statement is msgspec.UNSET


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        pytest.param(
            {
                "type": "progress_recorded",
                "goal_id": str(GOAL_ID),
                "check_in_id": str(CHECK_IN_ID),
                "amount": 3,
                "occurred_at": "2025-03-09T12:00:00Z",
            },
            ProgressRecorded(GOAL_ID, CHECK_IN_ID, 3.0, datetime(2025, 3, 9, 12, tzinfo=UTC)),
            id="progress without a note",
        ),
        pytest.param(
            {
                "type": "correction_recorded",
                "goal_id": str(GOAL_ID),
                "scope": "goal",
                "reason": "Wrong client",
            },
            CorrectionRecorded(GOAL_ID, "goal", "Wrong client"),
            id="correction without a check-in",
        ),
        pytest.param(
            {"type": "goal_achieved", "goal_id": str(GOAL_ID)},
            GoalAchieved(GOAL_ID),
            id="achievement without a note",
        ),
    ],
)
def test_payloads_without_defaulted_fields_still_decode(
    payload: dict[str, Any], expected: GoalEvent
) -> None:
    assert _DECODER.decode(msgspec.json.encode(payload)) == expected


def test_a_goal_set_without_replaces_decodes_as_replacing_nothing() -> None:
    stored = msgspec.json.decode(msgspec.json.encode(goal_set()))
    del stored["replaces"]

    assert _DECODER.decode(msgspec.json.encode(stored)) == goal_set()


def test_unknown_fields_in_goal_terms_are_refused() -> None:
    stored = msgspec.json.decode(msgspec.json.encode(goal_set()))
    stored["terms"]["mood"] = "good"

    with pytest.raises(msgspec.ValidationError, match="mood"):
        _DECODER.decode(msgspec.json.encode(stored))


# --- generated events ------------------------------------------------------------------------

_texts = st.text(max_size=30)
_finite = st.floats(allow_nan=False, allow_infinity=False)
# JSON carries an offset in whole minutes, so generated times use fixed whole-minute offsets.
_offsets = st.integers(-14 * 60, 14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))
_aware_datetimes = st.datetimes(timezones=_offsets)


def _literal(alias: Any) -> st.SearchStrategy[Any]:
    return st.sampled_from(get_args(alias))


def _maybe_unset(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.just(msgspec.UNSET) | strategy


_measures = st.builds(
    Measure,
    kind=_literal(MeasureKind),
    target=_finite,
    unit=_texts,
    cadence=_literal(Cadence),
)
_terms = st.builds(
    GoalTerms,
    statement=_texts,
    life_area=_literal(LifeArea),
    values=st.lists(_texts, max_size=3).map(tuple),
    measure=_measures,
    cue=st.none() | _texts,
    start_date=st.dates(),
    due_date=st.dates(),
    priority=_literal(Priority),
    time_zone=_texts,
)
_changes = st.builds(
    TermsChange,
    statement=_maybe_unset(_texts),
    life_area=_maybe_unset(_literal(LifeArea)),
    values=_maybe_unset(st.lists(_texts, max_size=3).map(tuple)),
    measure=_maybe_unset(_measures),
    cue=_maybe_unset(st.none() | _texts),
    due_date=_maybe_unset(st.dates()),
    priority=_maybe_unset(_literal(Priority)),
    time_zone=_maybe_unset(_texts),
)
_ids = st.uuids()
_optional_text = st.none() | _texts

events: st.SearchStrategy[GoalEvent] = st.one_of(
    st.builds(GoalSet, _ids, _ids, _terms, st.none() | _ids),
    st.builds(GoalAdjusted, _ids, _changes, _changes, _texts),
    st.builds(ProgressRecorded, _ids, _ids, _finite, _aware_datetimes, _optional_text),
    st.builds(GoalAchieved, _ids, _optional_text),
    st.builds(GoalMissed, _ids, _literal(MissCause), _texts),
    st.builds(GoalPaused, _ids, _texts),
    st.builds(GoalResumed, _ids),
    st.builds(GoalCancelled, _ids, _texts),
    st.builds(CorrectionRecorded, _ids, st.just("goal"), _texts),
    st.builds(CorrectionRecorded, _ids, st.just("check_in"), _texts, _ids),
    st.builds(SupporterAdded, _ids, _ids),
    st.builds(SupporterRemoved, _ids, _ids),
    st.builds(GoalRated, _ids, st.integers(-(2**63), 2**63 - 1), _optional_text),
)


@settings(max_examples=300)
@given(events)
def test_any_event_decodes_back_to_an_equal_value(event: GoalEvent) -> None:
    decoded = _round_trip(event)

    assert type(decoded) is type(event)
    assert decoded == event


@settings(max_examples=50)
@given(st.lists(events, max_size=10))
def test_a_batch_of_events_decodes_back_in_order(batch: list[GoalEvent]) -> None:
    encoded = msgspec.json.encode(batch)

    assert msgspec.json.decode(encoded, type=list[GoalEvent]) == batch
