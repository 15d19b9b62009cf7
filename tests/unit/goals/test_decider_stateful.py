"""Random command sequences against goal streams, checked against an independent model.

For every command the machine predicts either the one event it must emit or the code it must be
refused with, and keeps its own picture of each goal. After every step it checks that each
stream's version grew by exactly the emitted events, that folding each stream gives the machine's
picture, that every event survives encoding, and that no stream breaks a lifecycle rule.

New goals keep being set on fresh streams, so that open goals stay around to receive commands
after others have ended.
"""

import math
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import msgspec
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from domain.goals.commands import (
    Actor,
    AddSupporter,
    AdjustGoal,
    CancelGoal,
    GoalCommand,
    MarkAchieved,
    PauseGoal,
    RateGoal,
    RecordCorrection,
    RecordMiss,
    RecordProgress,
    RemoveSupporter,
    ResumeGoal,
    SetGoal,
)
from domain.goals.decider import check_replacement, decide
from domain.goals.errors import GoalRuleViolation
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
from domain.goals.state import Goal, GoalState, NoGoal, fold
from domain.goals.terms import GoalStatus, GoalTerms, MissCause, Role
from tests.unit.goals.builders import (
    CLIENT,
    CLIENT_ID,
    CLINIC_OPENED,
    NOW,
    OTHER_CLIENT_ID,
    OTHER_SUPPORTER_ID,
    START,
    SUPPORTER_ID,
    THERAPIST,
    measure,
    on_record,
    terms,
)

_DECODER: msgspec.json.Decoder[GoalEvent] = msgspec.json.Decoder(GoalEvent)
_OPEN: frozenset[GoalStatus] = frozenset({"active", "paused"})
_CLOSED: frozenset[GoalStatus] = frozenset({"achieved", "missed", "cancelled"})
_NOT_IN_ERROR: frozenset[GoalStatus] = _OPEN | _CLOSED
_ACTIVE: frozenset[GoalStatus] = frozenset({"active"})
_PAUSED: frozenset[GoalStatus] = frozenset({"paused"})
_UNKNOWN_ID = UUID("00000000-0000-4000-8000-00000000ffff")

# --- inputs: mostly valid, sometimes breaking exactly one named rule -------------------------

# Values that no valid goal can hold, so the model can tell which rule a set of terms breaks.
_BAD_STATEMENT = "no"
_BAD_CUE = " "
_BAD_ZONE = "Mars/Olympus_Mons"


def _mostly(
    valid: st.SearchStrategy[Any], rarely: st.SearchStrategy[Any]
) -> st.SearchStrategy[Any]:
    """Draws from `valid` five times in six, else from `rarely`, so that long valid runs happen."""
    # Hypothesis favours small integers, so the rare branch sits at the top of the range.
    return st.integers(0, 5).flatmap(lambda roll: rarely if roll == 5 else valid)


def _usually(valid: list[Any], rarely: list[Any]) -> st.SearchStrategy[Any]:
    return _mostly(st.sampled_from(valid), st.sampled_from(rarely))


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.just(msgspec.UNSET) | strategy


_VALID_STATEMENTS = ["Walk for 30 minutes three times a week", "Walk daily"]
_VALID_CUES = [None, "After breakfast", "Before bed"]
_VALID_MEASURES = [
    measure(),
    measure(target=5.0),
    measure(kind="done", target=1.0, unit="plan", cadence="by_due_date"),
    measure(kind="duration_minutes", target=30.0, unit="minutes", cadence="per_day"),
    measure(kind="rating_0_10", target=7.5, unit="mood", cadence="per_week"),
]
_VALID_ZONES = ["Europe/Berlin", "Pacific/Auckland", "America/Los_Angeles", "UTC"]
# Far enough from START and NOW that the goal's time zone never changes the verdict.
_VALID_DUE_DATES = [date(2025, 6, 30), date(2025, 9, 30)]

_statements = _usually(_VALID_STATEMENTS, rarely=[_BAD_STATEMENT])
_cues = _usually(_VALID_CUES, rarely=[_BAD_CUE])
_measures = _usually(_VALID_MEASURES, rarely=[measure(target=0.0)])
_zones = _usually(_VALID_ZONES, rarely=[_BAD_ZONE])
_due_dates = _usually(_VALID_DUE_DATES, rarely=[START, date(2025, 3, 1), date(2031, 1, 1)])

_valid_terms = st.builds(
    terms,
    statement=st.sampled_from(_VALID_STATEMENTS),
    measure=st.sampled_from(_VALID_MEASURES),
    cue=st.sampled_from(_VALID_CUES),
    due_date=st.sampled_from(_VALID_DUE_DATES),
    time_zone=st.sampled_from(_VALID_ZONES),
)
_terms_for_set = st.builds(
    terms,
    statement=_statements,
    measure=_measures,
    cue=_cues,
    due_date=_due_dates,
    time_zone=_zones,
)


def _terms_changes(
    statements: st.SearchStrategy[Any],
    measures: st.SearchStrategy[Any],
    cues: st.SearchStrategy[Any],
    due_dates: st.SearchStrategy[Any],
    zones: st.SearchStrategy[Any],
) -> st.SearchStrategy[TermsChange]:
    return st.builds(
        TermsChange,
        statement=_maybe(statements),
        life_area=_maybe(st.sampled_from(["physical_health", "mental_health"])),
        values=_maybe(st.sampled_from([("health", "energy"), ("calm",), ()])),
        measure=_maybe(measures),
        cue=_maybe(cues),
        due_date=_maybe(due_dates),
        priority=_maybe(st.sampled_from(["high", "low"])),
        time_zone=_maybe(zones),
    )


_changes = _mostly(
    _terms_changes(
        st.sampled_from(_VALID_STATEMENTS),
        st.sampled_from(_VALID_MEASURES),
        st.sampled_from(_VALID_CUES),
        st.sampled_from(_VALID_DUE_DATES),
        st.sampled_from(_VALID_ZONES),
    ),
    rarely=_terms_changes(_statements, _measures, _cues, _due_dates, _zones),
)

_reasons = _usually(["Agreed in session"], rarely=["", "  ", "x" * 2001])
_notes = _usually([None, "", "Felt good"], rarely=["x" * 2001])
_supporters = st.sampled_from([SUPPORTER_ID, OTHER_SUPPORTER_ID, CLIENT_ID, OTHER_CLIENT_ID])
_amounts = _usually([1.0, 2.0, 1, 7.5], rarely=[0.5, 0.0, -1.0, 11.0, 1441.0, math.nan, math.inf])
_occurred_at = _usually(
    [
        NOW - timedelta(days=1),
        (NOW - timedelta(hours=2)).astimezone(timezone(timedelta(hours=13))),
        NOW + timedelta(minutes=4),
    ],
    rarely=[
        NOW + timedelta(minutes=6),
        datetime(2025, 3, 1, 12, 0, tzinfo=UTC),
        NOW.replace(tzinfo=None),
    ],
)


# --- the rules, written out for the inputs above ---------------------------------------------


def _text_refusal(value: str, *, limit: int = 2000, required: bool = True) -> str | None:
    if required and not value.strip():
        return "text_required"
    if len(value) > limit:
        return "text_too_long"
    return None


def _terms_refusal(candidate: GoalTerms) -> str | None:
    if candidate.statement == _BAD_STATEMENT:
        return "statement_length"
    if candidate.cue == _BAD_CUE:
        return "text_required"
    if candidate.measure.target <= 0:
        return "target_not_positive"
    if candidate.time_zone == _BAD_ZONE:
        return "unknown_time_zone"
    if candidate.due_date <= candidate.start_date:
        return "due_before_start"
    # NOW is 10 March 2025 in every sampled zone, so five years end on 10 March 2030.
    if candidate.due_date > date(2030, 3, 10):
        return "due_too_far"
    return None


def _amount_refusal(kind: str, amount: float) -> str | None:
    if not math.isfinite(amount):
        return "amount_invalid"
    if kind == "rating_0_10":
        return None if 0 <= amount <= 10 else "amount_out_of_range"
    if amount <= 0:
        return "amount_not_positive"
    if kind in {"count", "done"} and amount != int(amount):
        return "amount_not_whole"
    if (kind == "done" and amount != 1) or (kind == "duration_minutes" and amount > 1440):
        return "amount_out_of_range"
    return None


def _time_refusal(occurred_at: datetime) -> str | None:
    if occurred_at.tzinfo is None:
        return "time_without_zone"
    if occurred_at > NOW + timedelta(minutes=5):
        return "check_in_in_future"
    # The sampled times are a day or more from START, so their own date decides in any zone.
    if occurred_at.date() < START:
        return "check_in_before_start"
    return None


def _status_refusal(goal: Goal | None, allowed: frozenset[GoalStatus]) -> str | None:
    if goal is None:
        return "goal_not_found"
    if goal.status not in allowed:
        return "goal_status_conflict"
    return None


def _replacement_refusal(replaced: Goal | None, client_id: UUID) -> str | None:
    if replaced is None or replaced.client_id != client_id or replaced.status == "entered_in_error":
        return "replaced_goal_not_found"
    if replaced.status in _CLOSED | {"paused"}:
        return None
    return "replaced_goal_open"


def _first(*refusals: str | None) -> str | None:
    return next((refusal for refusal in refusals if refusal is not None), None)


# Which statuses each event may follow, and the status it leaves the goal in.
_LIFECYCLE: dict[type[GoalEvent], tuple[frozenset[GoalStatus], GoalStatus | None]] = {
    GoalAdjusted: (_OPEN, None),
    ProgressRecorded: (_ACTIVE, None),
    GoalPaused: (_ACTIVE, "paused"),
    GoalResumed: (_PAUSED, "active"),
    GoalAchieved: (_OPEN, "achieved"),
    GoalMissed: (_OPEN, "missed"),
    GoalCancelled: (_OPEN, "cancelled"),
    CorrectionRecorded: (_NOT_IN_ERROR, None),
    SupporterAdded: (_NOT_IN_ERROR, None),
    SupporterRemoved: (_NOT_IN_ERROR, None),
    GoalRated: (_NOT_IN_ERROR, None),
}


def _audit(stream: list[GoalEvent]) -> None:
    """Replays a stream with rules of its own and fails on the first fact that breaks one."""
    opening = stream[0]
    assert isinstance(opening, GoalSet)
    status: GoalStatus = "active"
    check_ins: set[UUID] = set()
    corrected: set[UUID] = set()
    supporters: set[UUID] = set()
    for position, event in enumerate(stream[1:], start=1):
        context = f"event {position}: {event!r} after status {status!r}"
        assert event.goal_id == opening.goal_id, context
        assert status != "entered_in_error", context
        if status in _CLOSED:
            assert isinstance(
                event, CorrectionRecorded | SupporterAdded | SupporterRemoved | GoalRated
            ), context
        allowed, status_after = _LIFECYCLE[type(event)]
        assert status in allowed, context
        status = status_after or status
        match event:
            case ProgressRecorded(check_in_id=check_in_id):
                assert check_in_id not in check_ins, context
                check_ins.add(check_in_id)
            case CorrectionRecorded(scope="goal", check_in_id=None):
                status = "entered_in_error"
            case CorrectionRecorded(scope="check_in", check_in_id=UUID() as check_in_id):
                assert check_in_id in check_ins, context
                assert check_in_id not in corrected, context
                corrected.add(check_in_id)
            case SupporterAdded(supporter_id=supporter_id):
                assert supporter_id != opening.client_id, context
                assert supporter_id not in supporters, context
                supporters.add(supporter_id)
            case SupporterRemoved(supporter_id=supporter_id):
                assert supporter_id in supporters, context
                supporters.remove(supporter_id)
            case CorrectionRecorded():
                raise AssertionError(f"malformed correction: {context}")


class _Stream:
    """An in-memory event stream with the optimistic version check of the real store, and its
    index on check-in ids (migration 0008)."""

    def __init__(self) -> None:
        self.events: list[GoalEvent] = []

    @property
    def version(self) -> int:
        return len(self.events)

    def holds_check_in(self, check_in_id: UUID) -> bool:
        return on_record(self.events, check_in_id).recorded

    def held_once(self, event: GoalEvent) -> str | None:
        """The rule the index stands for if it refuses `event`, as the writer answers it."""
        match event:
            case ProgressRecorded(check_in_id=check_in_id) if self.holds_check_in(check_in_id):
                return "check_in_exists"
            case CorrectionRecorded(check_in_id=UUID() as check_in_id) if on_record(
                self.events, check_in_id
            ).corrected:
                return "already_corrected"
        return None

    def append(self, events: list[GoalEvent], expected_version: int) -> int:
        assert expected_version == self.version, "the stream moved while deciding"
        self.events.extend(events)
        return self.version


class GoalStreamsMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.streams: dict[UUID, _Stream] = {}
        self.goals: dict[UUID, Goal] = {}
        self.accepted: dict[UUID, int] = {}
        self.check_ins: dict[UUID, frozenset[UUID]] = {}
        self.corrected: dict[UUID, frozenset[UUID]] = {}

    # --- choosing a goal ---------------------------------------------------------------------

    def _target(self, data: st.DataObject, prefer: frozenset[GoalStatus]) -> UUID:
        """Usually a goal in a `prefer`red status, else any goal or one that was never set."""
        preferred = sorted(goal_id for goal_id, goal in self.goals.items() if goal.status in prefer)
        anything = [*sorted(self.goals), _UNKNOWN_ID]
        if not preferred:
            return data.draw(st.sampled_from(anything))
        return data.draw(_usually(preferred, rarely=anything))

    # --- deciding ----------------------------------------------------------------------------

    def _decide(
        self,
        command: GoalCommand,
        refusal: str | None,
        event: GoalEvent,
        goal_after: Goal | None,
    ) -> None:
        """Decides on the folded stream and checks the outcome against the model's prediction."""
        stream = self.streams.setdefault(command.goal_id, _Stream())
        version = stream.version
        state = fold(stream.events)
        if isinstance(command, RecordCorrection) and command.check_in_id is not None:
            found = on_record(stream.events, command.check_in_id)
            command = msgspec.structs.replace(command, on_record=found)
        emitted: list[GoalEvent] = []
        refused_with: str | None = None
        try:
            emitted = decide(command, state)
        except GoalRuleViolation as violation:
            refused_with = violation.code
        # What the writer adds to the decider: the log's index, and a taken check-in id first.
        if refused_with is None:
            refused_with = next(filter(None, map(stream.held_once, emitted)), None)
        elif isinstance(command, RecordProgress) and stream.holds_check_in(command.check_in_id):
            refused_with = "check_in_exists"
        assert refused_with == refusal, (
            f"{command!r} gave {refused_with or emitted!r}, expected {refusal or event!r}"
        )
        if refusal is not None:
            return
        assert emitted == [event]
        if isinstance(event, ProgressRecorded):
            assert isinstance(state, Goal)
            assert state.status == "active"
        for emitted_event in emitted:
            assert _DECODER.decode(msgspec.json.encode(emitted_event)) == emitted_event
        assert stream.append(emitted, expected_version=version) == version + 1
        assert goal_after is not None
        self.goals[command.goal_id] = goal_after
        self.accepted[command.goal_id] = self.accepted.get(command.goal_id, 0) + 1

    def _on_goal(
        self,
        command: GoalCommand,
        allowed: frozenset[GoalStatus],
        *refusals: str | None,
        event: GoalEvent,
        before_status: str | None = None,
        **changes: Any,
    ) -> None:
        """Decides a command on an existing goal: its status rule comes before all others but
        `before_status`."""
        goal = self.goals.get(command.goal_id)
        refusal = _first(before_status, _status_refusal(goal, allowed), *refusals)
        goal_after = None
        if refusal is None and goal is not None:
            goal_after = msgspec.structs.replace(goal, **changes)
        self._decide(command, refusal, event, goal_after)

    # --- commands ----------------------------------------------------------------------------

    @initialize(goal_id=st.uuids(), goal_terms=_valid_terms)
    def start_with_a_goal(self, goal_id: UUID, goal_terms: GoalTerms) -> None:
        self._set(goal_id, CLIENT_ID, goal_terms, replaces=None)

    @rule(
        data=st.data(),
        fresh_id=st.uuids(),
        client_id=_usually([CLIENT_ID], rarely=[OTHER_CLIENT_ID]),
        goal_terms=_mostly(_valid_terms, rarely=_terms_for_set),
        replacing=_usually(["nothing"], rarely=["another goal", "itself"]),
    )
    def set_goal(
        self,
        data: st.DataObject,
        fresh_id: UUID,
        client_id: UUID,
        goal_terms: GoalTerms,
        replacing: str,
    ) -> None:
        reused = data.draw(_usually([False], rarely=[True]))
        goal_id = data.draw(st.sampled_from(sorted(self.goals))) if reused else fresh_id
        replaces = {
            "nothing": None,
            "another goal": self._target(data, prefer=_CLOSED | {"paused"}),
            "itself": goal_id,
        }[replacing]
        self._set(goal_id, client_id, goal_terms, replaces)

    def _set(
        self, goal_id: UUID, client_id: UUID, goal_terms: GoalTerms, replaces: UUID | None
    ) -> None:
        command = SetGoal(goal_id, client_id, goal_terms, THERAPIST, NOW, CLINIC_OPENED, replaces)
        if replaces is not None and replaces != goal_id:
            # The application checks the replaced goal's own stream before deciding.
            expected = _replacement_refusal(self.goals.get(replaces), client_id)
            replaced_stream = self.streams.get(replaces, _Stream())
            refused_on: tuple[str, str | None] | None = None
            try:
                check_replacement(fold(replaced_stream.events), command)
            except GoalRuleViolation as violation:
                refused_on = (violation.code, violation.field)
            assert refused_on == (None if expected is None else (expected, "replaces"))
            if refused_on is not None:
                return
        refusal = _first(
            "goal_exists" if goal_id in self.goals else None,
            "replaces_itself" if replaces == goal_id else None,
            _terms_refusal(goal_terms),
        )
        event = GoalSet(goal_id, client_id, goal_terms, replaces)
        self._decide(
            command, refusal, event, Goal(goal_id, client_id, goal_terms, "active", replaces)
        )

    @rule(data=st.data(), changes=_changes, reason=_reasons)
    def adjust(self, data: st.DataObject, changes: TermsChange, reason: str) -> None:
        goal_id = self._target(data, prefer=_OPEN)
        goal = self.goals.get(goal_id)
        current = goal.terms if goal is not None else terms()
        given_fields = {
            name: value
            for name, value in msgspec.structs.asdict(changes).items()
            if value is not msgspec.UNSET
        }
        touched = {
            name: value for name, value in given_fields.items() if value != getattr(current, name)
        }
        new_terms = msgspec.structs.replace(current, **touched)
        kind_changed = new_terms.measure.kind != current.measure.kind
        self._on_goal(
            AdjustGoal(goal_id, changes, reason, THERAPIST, NOW),
            _OPEN,
            _text_refusal(reason),
            "nothing_to_adjust" if not touched else None,
            "measure_kind_locked"
            if kind_changed and goal is not None and goal.check_ins_recorded
            else None,
            _terms_refusal(new_terms),
            event=GoalAdjusted(
                goal_id,
                TermsChange(**{name: getattr(current, name) for name in touched}),
                TermsChange(**touched),
                reason,
            ),
            terms=new_terms,
        )

    @rule(
        data=st.data(),
        fresh_id=st.uuids(),
        amount=_amounts,
        occurred_at=_occurred_at,
        note=_notes,
    )
    def record_progress(
        self,
        data: st.DataObject,
        fresh_id: UUID,
        amount: float,
        occurred_at: datetime,
        note: str | None,
    ) -> None:
        goal_id = self._target(data, prefer=_ACTIVE)
        goal = self.goals.get(goal_id)
        check_ins = self.check_ins.get(goal_id, frozenset())
        reused = check_ins and data.draw(_usually([False], rarely=[True]))
        check_in_id = data.draw(st.sampled_from(sorted(check_ins))) if reused else fresh_id
        kind = goal.terms.measure.kind if goal is not None else "count"
        accepted_before = self.accepted.get(goal_id, 0)
        self._on_goal(
            RecordProgress(goal_id, check_in_id, amount, occurred_at, CLIENT, NOW, note),
            _ACTIVE,
            _amount_refusal(kind, amount),
            _time_refusal(occurred_at),
            _text_refusal(note, required=False) if note is not None else None,
            event=ProgressRecorded(goal_id, check_in_id, amount, occurred_at, note),
            before_status="check_in_exists" if check_in_id in check_ins else None,
            check_ins_recorded=goal.check_ins_recorded + 1 if goal is not None else 0,
        )
        if self.accepted.get(goal_id, 0) > accepted_before:
            self.check_ins[goal_id] = check_ins | {check_in_id}

    @rule(data=st.data(), note=_notes)
    def mark_achieved(self, data: st.DataObject, note: str | None) -> None:
        goal_id = self._target(data, prefer=_OPEN)
        self._on_goal(
            MarkAchieved(goal_id, THERAPIST, NOW, note),
            _OPEN,
            _text_refusal(note, required=False) if note is not None else None,
            event=GoalAchieved(goal_id, note),
            status="achieved",
        )

    @rule(
        data=st.data(),
        cause=st.sampled_from(["unrealistic", "obstacles", "misaligned_with_values", "other"]),
        reflection=_usually(["Too much at once", ""], rarely=["x" * 2001]),
    )
    def record_miss(self, data: st.DataObject, cause: MissCause, reflection: str) -> None:
        goal_id = self._target(data, prefer=_OPEN)
        self._on_goal(
            RecordMiss(goal_id, cause, reflection, THERAPIST, NOW),
            _OPEN,
            _text_refusal(reflection, required=False),
            event=GoalMissed(goal_id, cause, reflection),
            status="missed",
        )

    @rule(data=st.data(), reason=_reasons)
    def pause(self, data: st.DataObject, reason: str) -> None:
        goal_id = self._target(data, prefer=_ACTIVE)
        self._on_goal(
            PauseGoal(goal_id, reason, THERAPIST, NOW),
            _ACTIVE,
            _text_refusal(reason),
            event=GoalPaused(goal_id, reason),
            status="paused",
        )

    @rule(data=st.data())
    def resume(self, data: st.DataObject) -> None:
        goal_id = self._target(data, prefer=_PAUSED)
        self._on_goal(
            ResumeGoal(goal_id, THERAPIST, NOW),
            _PAUSED,
            event=GoalResumed(goal_id),
            status="active",
        )

    @rule(data=st.data(), reason=_reasons)
    def cancel(self, data: st.DataObject, reason: str) -> None:
        goal_id = self._target(data, prefer=_OPEN)
        self._on_goal(
            CancelGoal(goal_id, reason, THERAPIST, NOW),
            _OPEN,
            _text_refusal(reason),
            event=GoalCancelled(goal_id, reason),
            status="cancelled",
        )

    @rule(data=st.data(), reason=_reasons, names_a_check_in=_usually([False], rarely=[True]))
    def correct_goal(self, data: st.DataObject, reason: str, names_a_check_in: bool) -> None:
        goal_id = self._target(data, prefer=_NOT_IN_ERROR)
        check_in_id = _UNKNOWN_ID if names_a_check_in else None
        self._on_goal(
            RecordCorrection(goal_id, "goal", reason, THERAPIST, NOW, check_in_id),
            _NOT_IN_ERROR,
            _text_refusal(reason),
            "check_in_not_expected" if check_in_id is not None else None,
            event=CorrectionRecorded(goal_id, "goal", reason),
            status="entered_in_error",
        )

    @rule(
        data=st.data(),
        reason=_reasons,
        which=_usually(["recorded"], rarely=["none", "unknown"]),
    )
    def correct_check_in(self, data: st.DataObject, reason: str, which: str) -> None:
        goal_id = self._target(data, prefer=_NOT_IN_ERROR)
        check_ins = self.check_ins.get(goal_id, frozenset())
        corrected = self.corrected.get(goal_id, frozenset())
        accepted_before = self.accepted.get(goal_id, 0)
        check_in_id: UUID | None = None
        if which == "recorded" and check_ins:
            check_in_id = data.draw(st.sampled_from(sorted(check_ins)))
        elif which == "unknown":
            check_in_id = _UNKNOWN_ID
        self._on_goal(
            RecordCorrection(goal_id, "check_in", reason, THERAPIST, NOW, check_in_id),
            _NOT_IN_ERROR,
            _text_refusal(reason),
            "check_in_not_found" if check_in_id is None or check_in_id not in check_ins else None,
            "already_corrected" if check_in_id in corrected else None,
            event=CorrectionRecorded(goal_id, "check_in", reason, check_in_id),
        )
        if self.accepted.get(goal_id, 0) > accepted_before and check_in_id is not None:
            self.corrected[goal_id] = corrected | {check_in_id}

    @rule(data=st.data(), supporter_id=_supporters)
    def add_supporter(self, data: st.DataObject, supporter_id: UUID) -> None:
        goal_id = self._target(data, prefer=_NOT_IN_ERROR)
        goal = self.goals.get(goal_id)
        supporters = goal.supporters if goal is not None else frozenset()
        client_id = goal.client_id if goal is not None else CLIENT_ID
        self._on_goal(
            AddSupporter(goal_id, supporter_id, CLIENT, NOW),
            _NOT_IN_ERROR,
            "supporter_is_client" if supporter_id == client_id else None,
            "supporter_exists" if supporter_id in supporters else None,
            event=SupporterAdded(goal_id, supporter_id),
            supporters=supporters | {supporter_id},
        )

    @rule(data=st.data(), anyone=_supporters)
    def remove_supporter(self, data: st.DataObject, anyone: UUID) -> None:
        goal_id = self._target(data, prefer=_NOT_IN_ERROR)
        goal = self.goals.get(goal_id)
        supporters = goal.supporters if goal is not None else frozenset()
        following = supporters and data.draw(_usually([True], rarely=[False]))
        supporter_id = data.draw(st.sampled_from(sorted(supporters))) if following else anyone
        self._on_goal(
            RemoveSupporter(goal_id, supporter_id, CLIENT, NOW),
            _NOT_IN_ERROR,
            "supporter_not_found" if supporter_id not in supporters else None,
            event=SupporterRemoved(goal_id, supporter_id),
            supporters=supporters - {supporter_id},
        )

    @rule(
        data=st.data(),
        rating=_usually([-2, -1, 0, 1, 2], rarely=[-3, 3]),
        role=_usually(["therapist"], rarely=["client", "supporter"]),
        note=_notes,
    )
    def rate(self, data: st.DataObject, rating: int, role: Role, note: str | None) -> None:
        goal_id = self._target(data, prefer=_CLOSED)
        self._on_goal(
            RateGoal(goal_id, rating, Actor(THERAPIST.user_id, role), NOW, note),
            _NOT_IN_ERROR,
            "rating_by_therapist_only" if role != "therapist" else None,
            "rating_out_of_range" if not -2 <= rating <= 2 else None,
            _text_refusal(note, required=False) if note is not None else None,
            event=GoalRated(goal_id, rating, note),
        )

    # --- invariants --------------------------------------------------------------------------

    @invariant()
    def each_version_counts_exactly_the_accepted_commands(self) -> None:
        for goal_id, stream in self.streams.items():
            assert stream.version == self.accepted.get(goal_id, 0)

    @invariant()
    def each_fold_is_the_modelled_goal(self) -> None:
        for goal_id, stream in self.streams.items():
            expected: GoalState = self.goals.get(goal_id, NoGoal())
            assert fold(stream.events) == expected

    @invariant()
    def every_stream_survives_encoding(self) -> None:
        for stream in self.streams.values():
            encoded = msgspec.json.encode(stream.events)
            assert msgspec.json.decode(encoded, type=list[GoalEvent]) == stream.events

    @invariant()
    def no_stream_breaks_a_lifecycle_rule(self) -> None:
        for stream in self.streams.values():
            if stream.events:
                _audit(stream.events)


TestGoalStreams = GoalStreamsMachine.TestCase
TestGoalStreams.settings = settings(max_examples=200, stateful_step_count=50, deadline=None)
