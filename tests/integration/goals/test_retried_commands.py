"""A command run twice appends once: its event ids derive from the command's id, so the second run
finds its events already stored and answers where the first run put them.

The second run comes the ways a retry would: with the goal as the first run read it (its reply was
lost), in a batch of other requests' appends, or from another process that folds the goal afresh
and so decides again on the goal the first run left. A rating is the command used where deciding
again on the newer goal gives the same event once more: appended again, it would count twice.
"""

import uuid
from functools import partial
from uuid import UUID

import asyncpg
import pytest

from domain.goals.commands import AdjustGoal, GoalCommand, RateGoal, SetGoal
from domain.goals.decider import decide
from domain.goals.events import TermsChange
from domain.goals.state import NoGoal
from infra.db.connection import Connection
from infra.eventstore.envelope import AppendResult, NewEvent
from infra.eventstore.store import PendingAppend, append_batch, read_stream
from infra.goals.folds import GoalFolds
from infra.goals.handler import CommandContext, attempt, handle, load_goal, new_events
from infra.goals.streams import goal_stream
from tests.integration.projections.goals import CLINIC, CLINIC_OPENED, NOW, THERAPIST, terms


def _context() -> CommandContext:
    return CommandContext(uuid.uuid4(), CLINIC, "retried-command-test")


def _adjustment(goal_id: UUID) -> AdjustGoal:
    return AdjustGoal(goal_id, TermsChange(priority="low"), "Work got busy", THERAPIST, NOW)


def _rating(goal_id: UUID) -> RateGoal:
    return RateGoal(goal_id, 1, THERAPIST, NOW, "Better than expected")


async def _new_goal(conn: Connection) -> UUID:
    goal_id = uuid.uuid4()
    await handle(
        conn, SetGoal(goal_id, uuid.uuid4(), terms(), THERAPIST, NOW, CLINIC_OPENED), _context()
    )
    return goal_id


async def _log_of(conn: Connection, goal_id: UUID) -> list[tuple[int, int, str]]:
    return [
        (event.position, event.stream_version, event.event_type)
        for event in await read_stream(conn, goal_stream(goal_id))
    ]


def _positions(appended: AppendResult) -> list[tuple[int, int]]:
    return [(stored.position, stored.stream_version) for stored in appended.stored]


def _assert_replayed(again: AppendResult, first: AppendResult) -> None:
    assert again.replayed
    assert _positions(again) == _positions(first)


@pytest.mark.parametrize("if_match", [False, True], ids=["on-the-latest", "if-match"])
async def test_a_command_run_again_after_a_lost_reply_appends_nothing(
    conn: Connection, if_match: bool
) -> None:
    goal_id = await _new_goal(conn)
    loaded = await load_goal(conn, goal_id)
    command, context = _adjustment(goal_id), _context()
    expected = loaded[1] if if_match else None
    first = await handle(conn, command, context, expected, loaded)
    log = await _log_of(conn, goal_id)

    again = await handle(conn, command, context, expected, loaded)

    _assert_replayed(again.appended, first.appended)
    assert again.events == first.events
    assert await _log_of(conn, goal_id) == log
    assert [event_type for _, _, event_type in log] == ["goal_set", "goal_adjusted"]


async def test_a_goal_set_again_after_a_lost_reply_is_set_once(conn: Connection) -> None:
    goal_id, client_id = uuid.uuid4(), uuid.uuid4()
    command, context = (
        SetGoal(goal_id, client_id, terms(), THERAPIST, NOW, CLINIC_OPENED),
        _context(),
    )
    nothing_yet = (NoGoal(), 0)  # as the API hands a new goal to the handler
    first = await handle(conn, command, context, 0, nothing_yet)

    again = await handle(conn, command, context, 0, nothing_yet)

    _assert_replayed(again.appended, first.appended)
    assert len(await _log_of(conn, goal_id)) == 1


async def test_a_command_run_again_in_a_batch_of_other_appends_appends_nothing(
    conn: Connection,
) -> None:
    """The API's shared round trips: the retry's append goes in one statement with another
    goal's, and must come back replayed while the other goes in."""
    goal_id, other_goal_id = await _new_goal(conn), await _new_goal(conn)
    loaded = await load_goal(conn, goal_id)
    command, context = _rating(goal_id), _context()
    first = await attempt(partial(_batched, conn), command, context, loaded)
    log = await _log_of(conn, goal_id)

    retried, other = await append_batch(
        conn,
        [
            PendingAppend(
                goal_stream(goal_id), loaded[1], new_events(first.events, command, context)
            ),
            PendingAppend(
                goal_stream(other_goal_id), 1, await _decided(conn, _rating(other_goal_id))
            ),
        ],
    )

    assert isinstance(retried, AppendResult), retried
    _assert_replayed(retried, first.appended)
    assert await _log_of(conn, goal_id) == log
    assert isinstance(other, AppendResult), other
    assert (other.replayed, other.version) == (False, 2)


async def test_another_process_running_the_command_again_appends_nothing(
    conn: Connection, database_url: str
) -> None:
    """A second process, with its own connections and nothing folded, gets the command again
    after the first one ran it: it decides again on the goal as the first run left it, and its
    append finds its events already stored."""
    goal_id = await _new_goal(conn)
    command, context = _rating(goal_id), _context()
    first = await handle(conn, command, context, folds=GoalFolds())
    log = await _log_of(conn, goal_id)

    async with (
        asyncpg.create_pool(database_url, min_size=1, max_size=1) as other_process,
        other_process.acquire() as other_conn,
    ):
        again = await handle(other_conn, command, context, folds=GoalFolds())

    _assert_replayed(again.appended, first.appended)
    assert await _log_of(conn, goal_id) == log
    assert [event_type for _, _, event_type in log] == ["goal_set", "goal_rated"]


async def _batched(
    conn: Connection, stream_id: str, expected: int, events: list[NewEvent]
) -> AppendResult:
    (outcome,) = await append_batch(conn, [PendingAppend(stream_id, expected, events)])
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


async def _decided(conn: Connection, command: GoalCommand) -> list[NewEvent]:
    state, _ = await load_goal(conn, command.goal_id)
    return new_events(decide(command, state), command, _context())
