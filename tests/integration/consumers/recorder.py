"""A consumer of the log, as a module adds one: it records every event it is given, in the order
it was given them, so that a test can see each goal arrive whole and in version order.

Importing this module registers it; worker services import it through `CONSUMER_MODULES`.
"""

from uuid import UUID

from infra.db.connection import Connection
from infra.eventstore.envelope import RecordedEvent
from infra.projections.follow import follower
from infra.projections.registry import register
from tests.integration.consumers import RECORDER, RECORDER_TABLE, RECORDER_VERSION


async def _record(conn: Connection, goal_id: UUID, events: list[RecordedEvent]) -> None:
    await conn.executemany(
        f"INSERT INTO {RECORDER_TABLE} (goal_id, stream_version, position) VALUES ($1, $2, $3)",
        [(goal_id, event.stream_version, event.position) for event in events],
    )


async def _reset(conn: Connection) -> None:
    await conn.execute(f"DELETE FROM {RECORDER_TABLE}")


register(follower(RECORDER, RECORDER_VERSION, (RECORDER_TABLE,), _record, reset=_reset))
