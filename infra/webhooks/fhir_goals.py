"""The goals the `fhir` format sends: each as a FHIR R4 Goal (domain/goals/fhir.py), folded from
its events up to the delivered one. The same delivery always makes the same Goal: nothing later
in the log, and no clock, goes into it (so `achievementStatus` of a goal still pursued is
`in-progress`, not the trend that depends on the day it is read)."""

from uuid import UUID

from domain.goals.fhir import Json, history_resource
from domain.webhooks.types import NUDGE_SENT
from infra.db.connection import Connection
from infra.eventstore.store import read_streams
from infra.goals import codec
from infra.goals.fhir_reads import stamp_of
from infra.goals.streams import goal_stream
from infra.webhooks.claims import Due


async def goals_as_fhir(conn: Connection, due: list[Due]) -> dict[UUID, Json | None]:
    """Each goal event's delivery's Goal, by delivery id; the goals' streams are read in one
    round trip. A nudge's delivery sends no Goal."""
    due = [item for item in due if item.disclosed.webhook_type != NUDGE_SENT]
    goal_ids = {item.disclosed.goal_id for item in due if item.disclosed.goal_id is not None}
    streams = await read_streams(conn, [goal_stream(goal_id) for goal_id in goal_ids])
    histories = {
        goal_id: [
            (codec.decode_event(event), stamp_of(event))
            for event in streams.get(goal_stream(goal_id), [])
        ]
        for goal_id in goal_ids
    }
    return {
        item.delivery_id: history_resource(
            histories[item.disclosed.goal_id][: item.disclosed.stream_version]
        )
        for item in due
        if item.disclosed.goal_id is not None
    }
