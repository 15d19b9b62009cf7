"""The access policy on its own: who relates to a goal how, and that nobody of another clinic
relates to it at all, whatever else they have in common with it."""

import uuid
from uuid import UUID

import pytest

from domain.access.policy import (
    Caller,
    GoalAccess,
    GoalAction,
    View,
    may,
    may_set_goal_for,
    may_unshare,
    view_of,
)
from domain.goals.terms import Role

CLINIC, OTHER_CLINIC = uuid.UUID(int=1), uuid.UUID(int=2)
CLIENT, THERAPIST, SUPPORTER = uuid.UUID(int=10), uuid.UUID(int=11), uuid.UUID(int=12)
STRANGER = uuid.UUID(int=13)

GOAL = GoalAccess(
    clinic_id=CLINIC,
    client_id=CLIENT,
    supporters=frozenset({SUPPORTER}),
    therapists=frozenset({THERAPIST}),
)

# Who each role is when they relate to GOAL, what they see and what they may do.
RELATED: dict[Role, tuple[UUID, View, set[GoalAction]]] = {
    "client": (
        CLIENT,
        View.FULL,
        {
            GoalAction.READ,
            GoalAction.READ_HISTORY,
            GoalAction.WRITE,
            GoalAction.SHARE,
            GoalAction.UNSHARE,
        },
    ),
    "therapist": (
        THERAPIST,
        View.FULL,
        {
            GoalAction.READ,
            GoalAction.READ_HISTORY,
            GoalAction.WRITE,
            GoalAction.UNSHARE,
            GoalAction.RATE,
        },
    ),
    "supporter": (
        SUPPORTER,
        View.SHARED,
        {GoalAction.READ_SHARED, GoalAction.UNSHARE, GoalAction.ENCOURAGE},
    ),
    "auditor": (STRANGER, View.HISTORY_ONLY, {GoalAction.READ_HISTORY}),
    "integration": (STRANGER, View.FULL, {GoalAction.READ}),
}


def _allowed(caller: Caller, goal: GoalAccess) -> set[GoalAction]:
    return {action for action in GoalAction if may(caller, action, goal)}


@pytest.mark.parametrize("role", RELATED)
def test_a_caller_of_the_goals_clinic_sees_and_does_what_their_relation_allows(
    role: Role,
) -> None:
    user_id, view, actions = RELATED[role]
    caller = Caller(user_id, CLINIC, role)

    assert view_of(caller, GOAL) is view
    assert _allowed(caller, GOAL) == actions


@pytest.mark.parametrize("role", RELATED)
def test_the_same_caller_in_another_clinic_may_not_know_the_goal_exists(role: Role) -> None:
    user_id, _, _ = RELATED[role]
    caller = Caller(user_id, OTHER_CLINIC, role)

    assert view_of(caller, GOAL) is None
    assert _allowed(caller, GOAL) == set()
    assert not may_unshare(caller, GOAL, SUPPORTER)
    assert not may_set_goal_for(caller, GOAL)


@pytest.mark.parametrize("role", ["admin", "client", "therapist", "supporter"])
def test_a_caller_with_no_relation_to_the_goal_may_not_know_it_exists(role: Role) -> None:
    caller = Caller(STRANGER, CLINIC, role)

    assert view_of(caller, GOAL) is None
    assert _allowed(caller, GOAL) == set()


@pytest.mark.parametrize(
    ("caller", "allowed"),
    [
        (Caller(CLIENT, CLINIC, "client"), True),
        (Caller(THERAPIST, CLINIC, "therapist"), True),
        (Caller(CLIENT, OTHER_CLINIC, "client"), False),
        (Caller(THERAPIST, OTHER_CLINIC, "therapist"), False),
        (Caller(STRANGER, CLINIC, "therapist"), False),
        (Caller(SUPPORTER, CLINIC, "supporter"), False),
        (Caller(STRANGER, CLINIC, "admin"), False),
        (Caller(STRANGER, CLINIC, "auditor"), False),
    ],
)
def test_only_the_client_and_their_therapists_may_set_the_client_a_goal(
    caller: Caller, allowed: bool
) -> None:
    assert may_set_goal_for(caller, GOAL) is allowed


@pytest.mark.parametrize(
    ("caller", "supporter_id", "allowed"),
    [
        (Caller(SUPPORTER, CLINIC, "supporter"), SUPPORTER, True),
        (Caller(SUPPORTER, CLINIC, "supporter"), STRANGER, False),
        (Caller(CLIENT, CLINIC, "client"), SUPPORTER, True),
        (Caller(THERAPIST, CLINIC, "therapist"), SUPPORTER, True),
        (Caller(SUPPORTER, OTHER_CLINIC, "supporter"), SUPPORTER, False),
    ],
)
def test_a_supporter_may_stop_only_their_own_following(
    caller: Caller, supporter_id: UUID, allowed: bool
) -> None:
    assert may_unshare(caller, GOAL, supporter_id) is allowed
