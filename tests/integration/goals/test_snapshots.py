"""Snapshots: a cold load folds from the goal's latest snapshot of this fold, and only the events
after it; a snapshot of another fold, or one that does not decode, is set aside."""

import uuid

import asyncpg
import msgspec
import pytest

from domain.goals.commands import RecordProgress
from domain.goals.state import FOLD_VERSION
from infra.db.connection import Connection
from infra.goals.folds import GoalFolds
from infra.goals.snapshots import Snapshot, SnapshotKeeper, keep_snapshot, read_snapshot
from tests.integration.projections.goals import NOW, THERAPIST, goal_with_check_ins, run


async def _snapshot_of(conn: Connection, goal_id: uuid.UUID) -> Snapshot:
    folded = await GoalFolds().load(conn, goal_id)
    assert folded is not None
    return Snapshot(folded.version, folded.state, folded.detail)


async def test_a_cold_load_folds_on_from_the_snapshot(conn: Connection) -> None:
    goal_id = await goal_with_check_ins(conn, 3)
    snapshot = await _snapshot_of(conn, goal_id)
    # A snapshot is trusted as the fold of its events: a changed statement in it shows that the
    # load started there instead of at the goal's first event.
    marked = msgspec.structs.replace(
        snapshot,
        state=msgspec.structs.replace(
            snapshot.state,
            terms=msgspec.structs.replace(snapshot.state.terms, statement="from the snapshot"),
        ),
    )
    await keep_snapshot(conn, goal_id, marked)
    await run(conn, RecordProgress(goal_id, uuid.uuid4(), 2, NOW, THERAPIST, NOW))

    folded = await GoalFolds().load(conn, goal_id)

    assert folded is not None
    assert folded.state.terms.statement == "from the snapshot"
    assert (folded.version, folded.snapshot_version) == (5, 4)
    assert folded.detail.progress_total == 5


async def test_a_snapshot_of_another_fold_or_unreadable_is_set_aside(conn: Connection) -> None:
    goal_id = await goal_with_check_ins(conn, 2)
    whole = await GoalFolds().load(conn, goal_id)
    snapshot = await _snapshot_of(conn, goal_id)
    await keep_snapshot(conn, goal_id, snapshot)
    await conn.execute(
        "UPDATE goal_snapshots SET fold_version = $2 WHERE goal_id = $1", goal_id, FOLD_VERSION - 1
    )

    assert await read_snapshot(conn, goal_id) is None
    await conn.execute(
        "UPDATE goal_snapshots SET fold_version = $2, folded = $3 WHERE goal_id = $1",
        goal_id,
        FOLD_VERSION,
        b"\xc1 not msgpack",
    )
    assert await read_snapshot(conn, goal_id) is None
    assert await GoalFolds().load(conn, goal_id) == whole


async def test_an_older_snapshot_never_replaces_a_newer_one(conn: Connection) -> None:
    goal_id = await goal_with_check_ins(conn, 1)
    older = await _snapshot_of(conn, goal_id)
    await run(conn, RecordProgress(goal_id, uuid.uuid4(), 2, NOW, THERAPIST, NOW))
    newer = await _snapshot_of(conn, goal_id)

    await keep_snapshot(conn, goal_id, newer)
    await keep_snapshot(conn, goal_id, older)

    assert await read_snapshot(conn, goal_id) == newer


async def test_the_keeper_writes_in_the_background_and_waits_for_it(
    conn: Connection, pool: asyncpg.Pool
) -> None:
    goal_id = await goal_with_check_ins(conn, 2)
    snapshot = await _snapshot_of(conn, goal_id)
    keeper = SnapshotKeeper(pool)

    keeper.keep_later(goal_id, snapshot)
    await keeper.settled()

    assert await read_snapshot(conn, goal_id) == snapshot


async def test_a_snapshot_keeps_known_totals_only(conn: Connection) -> None:
    goal_id = await goal_with_check_ins(conn, 1)
    snapshot = await _snapshot_of(conn, goal_id)
    unknown = msgspec.structs.replace(
        snapshot, detail=msgspec.structs.replace(snapshot.detail, totals_known=False)
    )

    with pytest.raises(ValueError, match="known totals"):
        await keep_snapshot(conn, goal_id, unknown)
