"""A consumer that fails on every event it is given: it must hold no other consumer back."""

from uuid import UUID

from infra.db.connection import Connection
from infra.eventstore.envelope import RecordedEvent
from infra.projections.follow import follower
from infra.projections.registry import register
from tests.integration.consumers import REFUSER


async def _refuse(conn: Connection, goal_id: UUID, events: list[RecordedEvent]) -> None:
    raise RuntimeError(f"refused version {events[0].stream_version} of goal {goal_id}")


register(follower(REFUSER, 1, (), _refuse))
