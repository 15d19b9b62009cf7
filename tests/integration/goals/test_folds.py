"""The per-process cache of folded goals: never stale, and never set back by a slower read."""

import uuid

import asyncpg

from domain.goals.commands import RecordProgress
from domain.goals.state import fold
from infra.eventstore.store import read_stream
from infra.goals import codec
from infra.goals.folds import GoalFolds
from infra.goals.streams import goal_stream
from tests.integration.projections.goals import NOW, THERAPIST, goal_with_check_ins, run


async def whole_fold(conn: asyncpg.Connection, goal_id: uuid.UUID) -> object:
    recorded = await read_stream(conn, goal_stream(goal_id))
    return fold([codec.decode_event(item) for item in recorded])


async def test_a_cached_goal_takes_in_what_was_appended_since(conn: asyncpg.Connection) -> None:
    folds = GoalFolds()
    goal_id = await goal_with_check_ins(conn, 2)
    first = await folds.load(conn, goal_id)
    await run(conn, RecordProgress(goal_id, uuid.uuid4(), 4, NOW, THERAPIST, NOW))

    again = await folds.load(conn, goal_id)

    assert first is not None
    assert again is not None
    assert (first.version, again.version) == (3, 4)
    assert again.state == await whole_fold(conn, goal_id)
    assert again.detail.progress_total == 6


async def test_there_is_no_fold_of_a_goal_never_set(conn: asyncpg.Connection) -> None:
    assert await GoalFolds().load(conn, uuid.uuid4()) is None


async def test_a_read_begun_before_a_newer_fold_folds_onto_its_own_base(
    conn: asyncpg.Connection,
) -> None:
    folds = GoalFolds()
    goal_id = await goal_with_check_ins(conn, 1)
    slow_base = folds.cached(goal_id)
    slow_read = await read_stream(conn, goal_stream(goal_id))
    await run(conn, RecordProgress(goal_id, uuid.uuid4(), 1, NOW, THERAPIST, NOW))
    newest = await folds.load(conn, goal_id)

    slow = folds.advanced(goal_id, slow_base, slow_read)

    assert slow is not None
    assert newest is not None
    assert (slow.version, newest.version) == (2, 3)
    assert slow.detail.check_in_count == 1
    assert folds.cached(goal_id) == newest
