"""Goal histories with their envelopes' stamps, as the log would hold them: events decided on
commands (so every history is one the service could write), stamped with rising times and
the actors who wrote them."""

import contextlib
from datetime import datetime, timedelta
from uuid import UUID

from hypothesis import strategies as st

from domain.goals.commands import Actor, GoalCommand
from domain.goals.decider import decide
from domain.goals.errors import GoalRuleViolation
from domain.goals.events import GoalEvent, GoalSet, TermsChange
from domain.goals.record import Stamp
from domain.goals.state import fold
from domain.goals.terms import Cadence, MeasureKind, MissCause
from tests.unit.goals.builders import (
    CLIENT,
    DUE,
    NOW,
    SUPPORTER_ID,
    THERAPIST,
    add_supporter,
    adjust_goal,
    cancel_goal,
    correct_check_in,
    correct_goal,
    goal_set,
    mark_achieved,
    measure,
    pause_goal,
    rate_goal,
    record_miss,
    record_progress,
    remove_supporter,
    resume_goal,
    terms,
)

Stamped = tuple[GoalEvent, Stamp]

KINDS: list[MeasureKind] = ["count", "duration_minutes", "rating_0_10", "done"]
CADENCES: list[Cadence] = ["per_day", "per_week", "per_month", "by_due_date"]
CAUSES: list[MissCause] = ["unrealistic", "obstacles", "misaligned_with_values", "other"]
TARGETS = {"count": 3.0, "duration_minutes": 150.0, "rating_0_10": 7.0, "done": 1.0}


def check_in_id(n: int) -> UUID:
    return UUID(int=0xC0000 + n)


def _course() -> st.SearchStrategy[GoalCommand]:
    """Commands that leave the goal open."""
    n = st.integers(0, 3)
    return st.one_of(
        n.map(lambda i: record_progress(check_in_id=check_in_id(i))),
        n.map(lambda i: correct_check_in(check_in_id(i))),
        st.sampled_from(KINDS).map(
            lambda kind: adjust_goal(
                TermsChange(measure=measure(kind=kind, target=TARGETS[kind])), "Kinder target"
            )
        ),
        st.just(adjust_goal(TermsChange(due_date=DUE + timedelta(days=30)), "More time")),
        st.just(adjust_goal(TermsChange(cue=None, values=()), "Simpler")),
        st.sampled_from(["Unwell for a while", "Travelling"]).map(pause_goal),
        st.just(resume_goal()),
        st.just(add_supporter()),
        st.just(remove_supporter(SUPPORTER_ID)),
        st.integers(-2, 2).map(rate_goal),
    )


def _ending() -> st.SearchStrategy[GoalCommand]:
    return st.one_of(
        st.sampled_from([None, "Walked every week"]).map(mark_achieved),
        st.sampled_from(CAUSES).map(lambda cause: record_miss(cause, "Too much at once")),
        st.just(record_miss("other", "")),
        st.just(cancel_goal()),
        st.just(correct_goal()),
    )


@st.composite
def stamped_histories(draw: st.DrawFn) -> list[Stamped]:
    """A goal's events, each stamped with its version, a time after the one before and an actor
    (the system among them), decided on random commands; refused commands leave no event."""
    kind = draw(st.sampled_from(KINDS))
    cadence = draw(st.sampled_from(CADENCES))
    first = goal_set(terms=terms(measure=measure(kind=kind, target=TARGETS[kind], cadence=cadence)))
    history: list[GoalEvent] = [first]
    # Mostly the goal's course, then perhaps its end and what may follow that.
    course = draw(st.lists(_course(), max_size=12))
    after = draw(st.lists(st.one_of(_ending(), _course()), max_size=3))
    for command in course + after:
        with contextlib.suppress(GoalRuleViolation):
            history.extend(decide(command, fold(history)))
    at = NOW
    stamped = []
    for version, event in enumerate(history, start=1):
        at += timedelta(hours=draw(st.integers(1, 60)))
        stamped.append((event, _stamp(version, at, draw(st.sampled_from(ACTORS)))))
    return stamped


ACTORS: list[Actor | None] = [THERAPIST, CLIENT, None]


def _stamp(version: int, at: datetime, actor: Actor | None) -> Stamp:
    if actor is None:
        return Stamp(version, at, None, "system")
    return Stamp(version, at, actor.user_id, actor.role)


def stamp(version: int, at: datetime = NOW, actor: Actor = THERAPIST) -> Stamp:
    return _stamp(version, at, actor)


def first_event(history: list[Stamped]) -> GoalSet:
    event = history[0][0]
    assert isinstance(event, GoalSet)
    return event
