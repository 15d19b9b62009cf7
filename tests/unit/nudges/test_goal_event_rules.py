"""Event-based rules: a celebration when a goal is achieved or a streak reaches a milestone, a
kind prompt after a miss; each under a key that names its occurrence."""

import uuid
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from domain.goals.events import (
    CorrectionRecorded,
    GoalAchieved,
    GoalEvent,
    GoalMissed,
    GoalSet,
    ProgressRecorded,
    SupporterAdded,
)
from domain.goals.summary import EventFacts
from domain.nudges.goal_events import CareTeam, FoldedGoal, event_nudges, fold, is_milestone
from domain.nudges.nudge import Nudge
from tests.unit.nudges.builders import CLIENT, CLINIC, GOAL, THERAPIST, goal_terms

SUPPORTER = uuid.UUID(int=5)
CARE = CareTeam(CLINIC, (THERAPIST,))
START = datetime(2026, 5, 4, 10, tzinfo=UTC)


class Story:
    """A goal's events, folded one by one, collecting the nudges each calls for."""

    def __init__(self) -> None:
        self.goal: FoldedGoal | None = None
        self.version = 0

    def then(self, event: GoalEvent, at: datetime) -> list[Nudge]:
        self.version += 1
        after = fold(self.goal, event, EventFacts(self.version, self.version, at, CLINIC))
        found = [] if self.goal is None else event_nudges(self.goal, after, event, at, CARE)
        self.goal = after
        return found


def started() -> Story:
    story = Story()
    terms = goal_terms(start=date(2026, 5, 1), due=date(2026, 7, 1))
    story.then(GoalSet(GOAL, CLIENT, terms), START)
    story.then(SupporterAdded(GOAL, SUPPORTER), START)
    return story


def check_in(day: int, check_in_id: UUID | None = None) -> ProgressRecorded:
    moment = START + timedelta(days=day)
    return ProgressRecorded(GOAL, check_in_id or uuid.uuid4(), 1, moment)


def test_an_achieved_goal_is_celebrated_with_everyone_who_follows_it() -> None:
    story = started()

    found = story.then(GoalAchieved(GOAL), START + timedelta(days=3))

    assert {(nudge.kind, nudge.recipient_id) for nudge in found} == {
        ("celebration", CLIENT),
        ("celebration", THERAPIST),
        ("celebration", SUPPORTER),
    }
    assert all(nudge.stale_at == nudge.deliver_at + timedelta(days=3) for nudge in found)
    assert all(nudge.key.startswith(f"celebration:{GOAL}:achieved:") for nudge in found)


def test_a_streak_is_celebrated_at_3_5_and_10_periods_once_each() -> None:
    story = started()
    reached = []
    for day in range(12):
        reached += [
            (day, nudge.recipient_id)
            for nudge in story.then(check_in(day), START + timedelta(days=day))
        ]
        # A second check-in the same day changes no streak.
        assert story.then(check_in(day), START + timedelta(days=day, hours=1)) == []

    assert reached == [
        (2, CLIENT),
        (2, SUPPORTER),
        (4, CLIENT),
        (4, SUPPORTER),
        (9, CLIENT),
        (9, SUPPORTER),
    ]


def test_a_streak_lost_to_a_correction_and_reached_again_the_same_day_has_the_same_key() -> None:
    story = started()
    story.then(check_in(0), START)
    story.then(check_in(1), START + timedelta(days=1))
    last = uuid.uuid4()
    first = story.then(check_in(2, last), START + timedelta(days=2))
    story.then(CorrectionRecorded(GOAL, "check_in", "typo", last), START + timedelta(days=2))
    again = story.then(check_in(2), START + timedelta(days=2, hours=2))

    assert [nudge.key for nudge in first] == [nudge.key for nudge in again]
    assert len(first) == 2


def test_after_a_miss_the_client_alone_gets_a_kind_prompt() -> None:
    story = started()

    (prompt,) = story.then(GoalMissed(GOAL, "obstacles", "Work got busy"), START)

    assert prompt.kind == "after_miss"
    assert prompt.recipient_id == CLIENT
    assert prompt.message.startswith("Setbacks are part of the process")
    for harsh in ("fail", "should have", "didn't", "lazy"):
        assert harsh not in prompt.message.lower()


def test_milestones() -> None:
    assert [n for n in range(1, 41) if is_milestone(n)] == [3, 5, 10, 20, 30, 40]
