"""What a goal read tells the access log: who called, and whose goals they read or tried to.

Routes say so as they go; the record is made once, from what was said by the time the answer
starts (services/api/audit/recording.py), whether the route answers or refuses.
"""

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from litestar import Request

from domain.access.policy import Caller

ACCESS_LOGGED = "access_logged"
"""Route option: every request to the route leaves one access record, whatever its outcome."""

_CALLER = "access_caller"
_CLIENTS = "access_clients"
_GOALS = "access_goals"


def note_caller(request: Request, caller: Caller) -> None:
    request.scope.setdefault("state", {})[_CALLER] = caller


def note_reach(
    request: Request, *, clients: Iterable[UUID] = (), goals: Iterable[UUID] = ()
) -> None:
    """The clients and goals the request reads, or would have read had it been allowed to."""
    state = request.scope.setdefault("state", {})
    state[_CLIENTS] = tuple(dict.fromkeys((*state.get(_CLIENTS, ()), *clients)))
    state[_GOALS] = tuple(dict.fromkeys((*state.get(_GOALS, ()), *goals)))


def noted(state: dict[str, Any]) -> tuple[Caller | None, tuple[UUID, ...], tuple[UUID, ...]]:
    """The caller, clients and goals the request's route noted (none, if it noted nothing)."""
    return state.get(_CALLER), state.get(_CLIENTS, ()), state.get(_GOALS, ())
