"""Finding a client's goals in the log, and reading several goals' streams in one round trip."""

import uuid

from domain.goals.commands import RateGoal, SetGoal
from infra.db.connection import Connection
from infra.eventstore.store import read_stream
from infra.goals.handler import CommandContext, handle
from infra.goals.queries import goal_ids_of_client, read_goal_streams
from infra.goals.streams import goal_stream
from tests.integration.projections.goals import CLINIC, CLINIC_OPENED, NOW, THERAPIST, terms


async def _run(conn: Connection, command: SetGoal | RateGoal) -> None:
    await handle(conn, command, CommandContext(uuid.uuid4(), CLINIC, "goal-queries-test"))


async def test_several_goals_are_read_whole_each_in_version_order(conn: Connection) -> None:
    client_id, other_client_id = uuid.uuid4(), uuid.uuid4()
    first, second, others = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    never_set = uuid.uuid4()
    for goal_id, client in ((first, client_id), (others, other_client_id), (second, client_id)):
        await _run(conn, SetGoal(goal_id, client, terms(), THERAPIST, NOW, CLINIC_OPENED))
    # Interleaved, so that neither the log's order nor the goals' keeps each goal together.
    for rating in (1, 2):
        for goal_id in (second, others, first):
            await _run(conn, RateGoal(goal_id, rating, THERAPIST, NOW))

    goal_ids = await goal_ids_of_client(conn, client_id)
    streams = await read_goal_streams(conn, [*goal_ids, never_set])

    assert goal_ids == [first, second]
    assert list(streams) == [first, second, never_set]
    for goal_id in (first, second):
        assert streams[goal_id] == await read_stream(conn, goal_stream(goal_id))
        assert [event.stream_version for event in streams[goal_id]] == [1, 2, 3]
    assert streams[never_set] == []
