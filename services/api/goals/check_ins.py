"""Check-ins, the commonest write, in one round trip when the process already knows the goal and
the caller (infra/goals/check_ins_at_once.py): both are usually cached, since a client checks in
on the same few goals again and again."""

from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID

from litestar import Request, Response

from domain.access.policy import Caller, GoalAccess, GoalAction, may
from domain.goals.commands import Actor, RecordProgress
from domain.goals.decider import decide
from domain.goals.errors import GoalRuleViolation
from domain.goals.events import ProgressRecorded
from domain.goals.retries import same_check_in
from domain.goals.state import Goal, fold
from infra.eventstore import codec
from infra.eventstore.envelope import RecordedEvent
from infra.goals.check_ins_at_once import CheckInAttempt
from infra.goals.folds import FoldedGoal
from infra.goals.handler import Handled, new_events
from infra.goals.request_read import RequestKey
from infra.goals.streams import goal_stream
from services.api.auth import Authenticator, authenticated, bearer_credentials
from services.api.errors import Problem
from services.api.goals.access import (
    LoadedGoal,
    after_write,
    folds,
    load_for,
    loaded_from,
    recent_callers,
    render,
)
from services.api.goals.schemas import WriteResult
from services.api.goals.store import goal_store
from services.api.goals.written import actor_of, command_context, written_reply
from services.api.writes import Reply, as_response, reply

CheckInMaker = Callable[[Actor, datetime], RecordProgress]


def _assumed_access(caller: Caller, goal: Goal) -> GoalAccess:
    """The facts that would let the caller write to the goal; the statement confirms them."""
    as_therapist = frozenset({caller.user_id}) if caller.role == "therapist" else frozenset()
    return GoalAccess(caller.clinic_id, goal.client_id, goal.supporters, as_therapist)


async def check_in_at_once(request: Request, goal_id: UUID, make: CheckInMaker) -> Reply | None:
    """The check-in's reply if it went in with its read; None when the request must take the
    usual path (nothing was written then)."""
    authenticator: Authenticator = request.app.state.authenticator
    token_hash = authenticator.token_hash(bearer_credentials(request))
    guessed = recent_callers.guess(token_hash)
    base = folds.cached(goal_id)
    if guessed is None or base is None:
        return None
    assumed = _assumed_access(guessed, base.state)
    if not may(guessed, GoalAction.WRITE, assumed):
        return None
    command = make(actor_of(guessed), datetime.now(UTC))
    try:
        events = decide(command, base.state)
    except GoalRuleViolation:
        return None  # perhaps only on this fold: the usual path decides on the newest
    (event,) = new_events(events, command, command_context(request, guessed, None))
    outcome = await goal_store(request).check_in_at_once(
        CheckInAttempt(
            RequestKey(token_hash, goal_id, base.version),
            assumed_holder=guessed.user_id,
            via_care_team=bool(assumed.therapists),
            check_in_id=command.check_in_id,
            event=event,
        )
    )
    read = outcome.read
    if outcome.appended is None:
        return None
    if read.client is None:
        raise RuntimeError(f"a check-in went in on goal {goal_id}, which its read did not find")
    caller = authenticated(request, read.caller)
    folded = folds.advanced(goal_id, base, read.newer)
    if folded is None:
        raise RuntimeError(f"goal {goal_id} took a check-in but folds to no goal")
    access = GoalAccess(
        read.client.clinic_id,
        read.client.client_id,
        folded.state.supporters,
        read.client.therapists,
    )
    before = LoadedGoal(folded.state, folded.detail, access, folded.version)
    handled = Handled(events, fold(events, folded.state), outcome.appended)
    after = after_write(before, access, handled)
    if after.version == folded.version + 1 and isinstance(after.state, Goal):
        # Committed by the statement (no transaction is open on it), and right after the
        # events read with it: the next check-in here need not read it back.
        folds.keep(goal_id, FoldedGoal(after.version, after.state, after.detail))
    return written_reply(caller, after, handled)


def _recording(recorded: list[RecordedEvent], check_in_id: UUID) -> tuple[int, ProgressRecorded]:
    """Where in the goal's events the check-in was recorded, and its event."""
    for index, item in enumerate(recorded):
        event = codec.decode_event(item)
        if isinstance(event, ProgressRecorded) and event.check_in_id == check_in_id:
            return index, event
    raise RuntimeError(f"a goal holds check-in {check_in_id} but not its event")


async def replayed_check_in(
    request: Request, goal_id: UUID, make: CheckInMaker, *, names_its_moment: bool
) -> Response[bytes]:
    """The answer to a check-in whose id the goal already holds: the first request's answer
    (the goal as that check-in left it, its version and position) if this one says the same
    (domain/goals/retries.py), else 409."""
    caller, loaded = await load_for(request, goal_id, GoalAction.WRITE)
    command = make(actor_of(caller), datetime.now(UTC))
    recorded = await goal_store(request).stream(goal_stream(goal_id))
    index, event = _recording(recorded, command.check_in_id)
    item = recorded[index]
    if not same_check_in(event, item.metadata.actor_id, command, names_its_moment=names_its_moment):
        raise Problem(
            409,
            "check_in_conflict",
            "Another check-in with this check_in_id is already recorded; send a new id.",
        )
    first = loaded_from(recorded[: index + 1], loaded.access)
    result = WriteResult(
        goal_id=goal_id,
        version=item.stream_version,
        position=item.position,
        goal=render(first, caller),
        warnings=[],
    )
    return as_response(reply(200, result, item.stream_version), replayed=True)
