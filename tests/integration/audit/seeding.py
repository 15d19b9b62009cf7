"""Events for the audit tests, inserted straight into the log: many of them, fast, at chosen
times. Each is a well-formed goal event of a goal of its own, so the export's lines carry
bodies of a realistic size."""

from datetime import datetime
from uuid import UUID

from infra.db.connection import Connection

SEED_EVENTS = """
INSERT INTO events (stream_id, stream_version, event_id, event_type, data, metadata, recorded_at)
SELECT 'goal-' || goal_id, 1, gen_random_uuid(), 'progress_recorded',
       jsonb_build_object(
           'type', 'progress_recorded', 'goal_id', goal_id,
           'check_in_id', gen_random_uuid(), 'amount', n, 'occurred_at', $3::timestamptz,
           'note', 'Walked around the park after lunch, as planned'),
       jsonb_build_object(
           'actor_id', $4::uuid, 'actor_role', 'client', 'clinic_id', $1::uuid,
           'correlation_id', 'seed-' || n, 'schema_version', 1),
       $3::timestamptz + n * interval '1 millisecond'
FROM generate_series(1, $2) AS n, LATERAL (SELECT md5($1::uuid::text || n)::uuid AS goal_id) AS goal
"""


async def seed_events(
    conn: Connection, clinic_id: UUID, count: int, starting: datetime, actor_id: UUID
) -> None:
    """`count` events of `clinic_id`, recorded a millisecond apart after `starting`."""
    await conn.execute(SEED_EVENTS, clinic_id, count, starting, actor_id)
