"""Who may do what to which goal: one table of rules, pure.

A caller who may not even see a goal is told it does not exist (`None`), so that a goal's
existence never leaks across clients or clinics; a caller who may see it but not do the action
is told so.

Clinics are kept apart twice: the queries find a goal's client only within the caller's clinic,
and the policy refuses a caller of another clinic than the one stored for the client. The second
line matters for the clinic-wide roles (auditor, integration), which relate to every goal of
their clinic: should a query ever let another clinic's goal through, they are still refused.
"""

from enum import Enum
from uuid import UUID

import msgspec

from domain.goals.terms import Role


class Caller(msgspec.Struct, frozen=True, gc=False):
    user_id: UUID
    clinic_id: UUID
    role: Role
    token_id: UUID | None = None
    """The credential the caller proved themself with, recorded on everything they write."""


class GoalAccess(msgspec.Struct, frozen=True, gc=False):
    """The facts about a goal that access depends on."""

    clinic_id: UUID
    """The client's clinic, as stored for the client (never taken from the caller)."""
    client_id: UUID
    supporters: frozenset[UUID]
    therapists: frozenset[UUID]


class GoalAction(Enum):
    READ = "read"
    READ_SHARED = "read_shared"
    READ_HISTORY = "read_history"
    WRITE = "write"
    SHARE = "share"
    UNSHARE = "unshare"
    RATE = "rate"
    ENCOURAGE = "encourage"


class View(Enum):
    """How much of a goal a caller sees."""

    FULL = "full"
    SHARED = "shared"
    HISTORY_ONLY = "history_only"


def _relation(caller: Caller, goal: GoalAccess) -> str | None:
    if caller.clinic_id != goal.clinic_id:
        return None
    match caller.role:
        case "client" if caller.user_id == goal.client_id:
            return "owner"
        case "therapist" if caller.user_id in goal.therapists:
            return "therapist"
        case "supporter" if caller.user_id in goal.supporters:
            return "supporter"
        case "auditor":
            return "auditor"
        case "integration":
            return "integration"
    return None


_ALLOWED: dict[str, frozenset[GoalAction]] = {
    "owner": frozenset(GoalAction)
    - {GoalAction.READ_SHARED, GoalAction.RATE, GoalAction.ENCOURAGE},
    "therapist": frozenset(
        {
            GoalAction.READ,
            GoalAction.READ_HISTORY,
            GoalAction.WRITE,
            GoalAction.UNSHARE,
            GoalAction.RATE,
        }
    ),
    # Encouragement is what a supporter is for; the care team has its own ways to speak.
    "supporter": frozenset({GoalAction.READ_SHARED, GoalAction.UNSHARE, GoalAction.ENCOURAGE}),
    "auditor": frozenset({GoalAction.READ_HISTORY}),
    "integration": frozenset({GoalAction.READ}),
}

_VIEW: dict[str, View] = {
    "owner": View.FULL,
    "therapist": View.FULL,
    "supporter": View.SHARED,
    "auditor": View.HISTORY_ONLY,
    "integration": View.FULL,
}


def view_of(caller: Caller, goal: GoalAccess) -> View | None:
    """What the caller may see of the goal; None if they may not know it exists."""
    relation = _relation(caller, goal)
    return None if relation is None else _VIEW[relation]


def may(caller: Caller, action: GoalAction, goal: GoalAccess) -> bool:
    relation = _relation(caller, goal)
    return relation is not None and action in _ALLOWED[relation]


def may_unshare(caller: Caller, goal: GoalAccess, supporter_id: UUID) -> bool:
    """The client and their therapists may stop any sharing; a supporter only their own."""
    if not may(caller, GoalAction.UNSHARE, goal):
        return False
    return caller.role != "supporter" or caller.user_id == supporter_id


def may_set_goal_for(caller: Caller, client: GoalAccess) -> bool:
    """The client and their therapists may set a goal for the client."""
    return _relation(caller, client) in {"owner", "therapist"}


def may_export_audit(caller: Caller) -> bool:
    """The audit export (every event of the caller's clinic) is the auditor's alone."""
    return caller.role == "auditor"


def may_read_record(caller: Caller, client: GoalAccess) -> bool:
    """A client's whole record (right of access): the client, their therapists, an auditor."""
    return _relation(caller, client) in {"owner", "therapist", "auditor"}
