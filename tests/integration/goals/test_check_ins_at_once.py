"""A check-in's read and append in one statement: it goes in only when everything its decision
assumed still holds, and otherwise appends nothing and reads what the usual path would read."""

import asyncio
import uuid
from uuid import UUID

import asyncpg
import msgspec
import pytest

from domain.goals.commands import Actor, PauseGoal, RecordProgress
from domain.goals.events import ProgressRecorded
from infra.access import identity
from infra.db.connection import Connection
from infra.eventstore.envelope import RecordedEvent
from infra.eventstore.store import read_stream
from infra.goals.check_ins_at_once import AttemptOutcome, CheckInAttempt, read_and_append
from infra.goals.handler import CommandContext, handle, new_events
from infra.goals.request_read import RequestKey, read_for_request
from infra.goals.streams import goal_stream
from tests.integration.goals.clinics import METADATA, ClinicWorld, Holder, new_goal
from tests.integration.projections.goals import NOW


def _attempt(
    holder: Holder,
    goal_id: UUID,
    after_version: int,
    *,
    via_care_team: bool | None = None,
    check_in_id: UUID | None = None,
    assumed_holder: UUID | None = None,
) -> CheckInAttempt:
    check_in_id = check_in_id or uuid.uuid4()
    actor = Actor(holder.user.id, holder.user.role)
    command = RecordProgress(goal_id, check_in_id, 2, NOW, actor, NOW)
    context = CommandContext(uuid.uuid4(), holder.user.clinic_id, "at-once-test")
    decided = ProgressRecorded(goal_id, check_in_id, 2, NOW)
    (new_event,) = new_events([decided], command, context)
    return CheckInAttempt(
        RequestKey(holder.secret_hash, goal_id, after_version),
        assumed_holder=assumed_holder or holder.user.id,
        via_care_team=holder.user.role == "therapist" if via_care_team is None else via_care_team,
        check_in_id=check_in_id,
        event=new_event,
    )


async def _one(conn: Connection, attempt: CheckInAttempt) -> AttemptOutcome:
    (outcome,) = await read_and_append(conn, [attempt])
    return outcome


async def _stream(conn: Connection, goal_id: UUID) -> list[RecordedEvent]:
    return await read_stream(conn, goal_stream(goal_id))


async def _assert_nothing_appended(conn: Connection, attempt: CheckInAttempt) -> AttemptOutcome:
    """Runs `attempt`, which must append nothing and read what a plain read reads."""
    goal_id = attempt.key.goal_id
    before = await _stream(conn, goal_id)
    plain_read = await read_for_request(conn, attempt.key)

    outcome = await _one(conn, attempt)

    assert outcome == AttemptOutcome(plain_read, None)
    assert await _stream(conn, goal_id) == before
    return outcome


@pytest.mark.parametrize("writer", ["client", "therapist"])
async def test_a_check_in_on_the_goal_as_folded_goes_in_with_its_read(
    conn: Connection, north: ClinicWorld, writer: str
) -> None:
    holder = north.client if writer == "client" else north.therapist
    attempt = _attempt(holder, north.goal_id, after_version=3)
    plain_read = await read_for_request(conn, attempt.key)

    outcome = await _one(conn, attempt)

    stream = await _stream(conn, north.goal_id)
    assert outcome.read == plain_read
    assert outcome.read.caller == holder.caller
    assert outcome.read.newer == []
    assert outcome.appended is not None
    assert [(item.position, item.stream_version) for item in outcome.appended.stored] == [
        (stream[-1].position, 4)
    ]
    stored = stream[-1]
    assert (stored.event_id, stored.event_type) == (attempt.event.event_id, "progress_recorded")
    assert msgspec.json.decode(stored.data) == msgspec.json.decode(attempt.event.data)
    assert stored.metadata == attempt.event.metadata


async def test_check_ins_of_other_ids_since_the_fold_do_not_stop_it(
    conn: Connection, north: ClinicWorld
) -> None:
    outcome = await _one(conn, _attempt(north.client, north.goal_id, after_version=1))

    assert [item.stream_version for item in outcome.read.newer] == [2, 3]
    assert outcome.appended is not None
    assert outcome.appended.version == 4
    assert len(await _stream(conn, north.goal_id)) == 4


async def test_another_kind_of_event_since_the_fold_stops_it(
    conn: Connection, north: ClinicWorld
) -> None:
    therapist = Actor(north.therapist.user.id, "therapist")
    pause = PauseGoal(north.goal_id, "A week away", therapist, NOW)
    await handle(conn, pause, CommandContext(uuid.uuid4(), None, "at-once-test"))

    outcome = await _assert_nothing_appended(conn, _attempt(north.client, north.goal_id, 3))

    assert [item.event_type for item in outcome.read.newer] == ["goal_paused"]


async def test_the_same_check_in_recorded_since_the_fold_stops_it(
    conn: Connection, north: ClinicWorld
) -> None:
    third = (await _stream(conn, north.goal_id))[2]
    recorded_id = UUID(msgspec.json.decode(third.data)["check_in_id"])

    await _assert_nothing_appended(
        conn, _attempt(north.client, north.goal_id, 2, check_in_id=recorded_id)
    )


async def test_a_revoked_token_stops_it(conn: Connection, north: ClinicWorld) -> None:
    await identity.revoke_token(conn, north.client.token_id, north.client.user.id, METADATA)

    outcome = await _assert_nothing_appended(conn, _attempt(north.client, north.goal_id, 3))

    assert outcome.read.caller is None


async def test_a_token_of_someone_else_than_the_caller_assumed_stops_it(
    conn: Connection, north: ClinicWorld
) -> None:
    assumed_other = _attempt(
        north.therapist, north.goal_id, 3, assumed_holder=north.second_therapist.user.id
    )

    await _assert_nothing_appended(conn, assumed_other)


async def test_a_therapist_taken_off_the_care_team_is_stopped(
    conn: Connection, north: ClinicWorld
) -> None:
    removed = north.therapist.user.id
    assert await identity.unassign_therapist(conn, north.client.user.id, removed, METADATA)

    outcome = await _assert_nothing_appended(conn, _attempt(north.therapist, north.goal_id, 3))

    assert outcome.read.client is not None
    assert removed not in outcome.read.client.therapists


async def test_a_caller_who_is_neither_the_client_nor_on_the_care_team_is_stopped(
    conn: Connection, north: ClinicWorld
) -> None:
    # As the client, a therapist is not the goal's client; as a therapist, a client has no care.
    await _assert_nothing_appended(
        conn, _attempt(north.therapist, north.goal_id, 3, via_care_team=False)
    )
    await _assert_nothing_appended(
        conn, _attempt(north.client, north.goal_id, 3, via_care_team=True)
    )


async def test_another_clinics_goal_or_none_is_stopped(
    conn: Connection, north: ClinicWorld, south: ClinicWorld
) -> None:
    for goal_id in (south.goal_id, uuid.uuid4()):
        outcome = await _assert_nothing_appended(conn, _attempt(north.therapist, goal_id, 3))

        assert outcome.read.client is None


async def test_a_writer_that_gets_in_while_it_waits_for_the_head_stops_it(
    conn: Connection, pool: asyncpg.Pool, north: ClinicWorld
) -> None:
    attempt = _attempt(north.client, north.goal_id, 3)
    async with pool.acquire() as other:
        transaction = other.transaction()
        await transaction.start()
        therapist = Actor(north.therapist.user.id, "therapist")
        check_in = RecordProgress(north.goal_id, uuid.uuid4(), 1, NOW, therapist, NOW)
        await handle(other, check_in, CommandContext(uuid.uuid4(), None, "at-once-test"))
        waiting = asyncio.create_task(_one(conn, attempt))
        await _until_waiting_for_a_lock(pool)
        await transaction.commit()
        outcome = await waiting

    # The other check-in took version 4 after this one's snapshot: deciding again is the
    # usual path's work, so nothing went in here.
    assert outcome.appended is None
    assert outcome.read.caller == north.client.caller
    assert [item.stream_version for item in await _stream(conn, north.goal_id)] == [1, 2, 3, 4]


async def _until_waiting_for_a_lock(pool: asyncpg.Pool) -> None:
    async with asyncio.timeout(10):  # the attempt never waited for the head's lock
        while not await pool.fetchval(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE wait_event_type = 'Lock' AND datname = current_database()"
        ):
            pass


async def test_a_batch_answers_each_attempt_in_order_and_a_goals_second_after_its_first(
    conn: Connection, north: ClinicWorld, south: ClinicWorld
) -> None:
    await identity.revoke_token(conn, south.client.token_id, south.client.user.id, METADATA)
    attempts = [
        _attempt(north.client, north.goal_id, 3),
        _attempt(south.client, south.goal_id, 3),
        _attempt(north.therapist, north.goal_id, 3),
        _attempt(south.therapist, south.goal_id, 2),
    ]

    outcomes = await read_and_append(conn, attempts)

    appended = [None if one.appended is None else one.appended.version for one in outcomes]
    # North's second attempt read north's first check-in, a check-in, and went in after it.
    assert appended == [4, None, 5, 4]
    assert [item.stream_version for item in outcomes[2].read.newer] == [4]
    assert outcomes[1].read.caller is None
    north_stream = await _stream(conn, north.goal_id)
    assert [item.event_id for item in north_stream[3:]] == [
        attempts[0].event.event_id,
        attempts[2].event.event_id,
    ]
    assert (await _stream(conn, south.goal_id))[-1].event_id == attempts[3].event.event_id


async def test_a_failed_statement_appends_nothing_and_reads_instead(
    conn: Connection, north: ClinicWorld, south: ClinicWorld
) -> None:
    taken_id = (await _stream(conn, south.goal_id))[0].event_id
    clashing = _attempt(north.client, north.goal_id, 3)
    clashing = msgspec.structs.replace(
        clashing, event=msgspec.structs.replace(clashing.event, event_id=taken_id)
    )
    innocent = _attempt(south.client, south.goal_id, 3)
    plain_reads = [await read_for_request(conn, one.key) for one in (clashing, innocent)]

    outcomes = await read_and_append(conn, [clashing, innocent])

    assert outcomes == [AttemptOutcome(read, None) for read in plain_reads]
    assert len(await _stream(conn, north.goal_id)) == 3
    assert len(await _stream(conn, south.goal_id)) == 3


async def test_only_check_ins_are_appended_this_way(conn: Connection, north: ClinicWorld) -> None:
    pause = _attempt(north.client, north.goal_id, 3)
    pause = msgspec.structs.replace(
        pause, event=msgspec.structs.replace(pause.event, event_type="goal_paused")
    )

    with pytest.raises(ValueError, match="progress_recorded"):
        await read_and_append(conn, [pause])
    assert len(await _stream(conn, north.goal_id)) == 3


async def _deadlocks(conn: Connection) -> int:
    return int(
        await conn.fetchval(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
        )
    )


async def _waiting_for_locks(conn: Connection, pids: list[int]) -> None:
    async with asyncio.timeout(10):
        while await conn.fetchval(
            "SELECT count(*) < $2 FROM pg_stat_activity "
            "WHERE pid = ANY($1) AND wait_event_type = 'Lock'",
            pids,
            len(pids),
        ):
            pass


async def test_batches_naming_the_same_goals_in_crossed_orders_do_not_deadlock(
    conn: Connection, pool: asyncpg.Pool, north: ClinicWorld
) -> None:
    therapist = Actor(north.therapist.user.id, "therapist")
    first, second = north.goal_id, await new_goal(conn, north.client.user.id, therapist, 2)
    deadlocks = await _deadlocks(conn)
    async with pool.acquire() as holder, pool.acquire() as left, pool.acquire() as right:
        # The first goal's head is held (not moved), so that both batches queue behind it with
        # whatever they locked before it; then it is let go.
        holding = holder.transaction()
        await holding.start()
        await holder.execute(
            "SELECT FROM streams WHERE stream_id = $1 FOR UPDATE", goal_stream(first)
        )
        batches = [
            asyncio.create_task(
                read_and_append(
                    batch_conn,
                    [_attempt(north.client, goal_id, 3) for goal_id in goal_ids],
                )
            )
            for batch_conn, goal_ids in ((left, (first, second)), (right, (second, first)))
        ]
        await _waiting_for_locks(holder, [left.get_server_pid(), right.get_server_pid()])
        await holding.commit()
        outcomes = await asyncio.gather(*batches)

    assert await _deadlocks(conn) == deadlocks
    appended = [one.appended.version for batch in outcomes for one in batch if one.appended]
    # Each goal took exactly one of the two check-ins decided on its version 3.
    assert sorted(appended) == [4, 4]
    for goal_id in (first, second):
        assert len(await _stream(conn, goal_id)) == 4
