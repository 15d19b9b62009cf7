"""Events and access records for the audit tests, inserted straight into their logs: many of
them, fast, at chosen times. Each event is a well-formed goal event of a goal of its own, and
each access record a read of one goal, so the export's lines carry bodies of a realistic size."""

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


SEED_ACCESS_RECORDS = """
INSERT INTO access_log (requested_at, recorded_at, clinic_id, role, client_ids, goal_ids, method,
    route, path, status, correlation_id)
SELECT at, at, $1, CASE WHEN $1::uuid IS NULL THEN NULL ELSE 'therapist' END,
       ARRAY[md5('client' || n)::uuid], ARRAY[md5('goal' || n)::uuid], 'GET',
       '/v1/goals/{goal_id}', '/v1/goals/' || md5('goal' || n)::uuid,
       CASE WHEN $1::uuid IS NULL THEN 401 ELSE 200 END, 'seed-read-' || n
FROM generate_series(1, $2) AS n,
     LATERAL (SELECT $3::timestamptz + n * interval '1 millisecond' AS at) AS t
"""


async def seed_access_records(
    conn: Connection, clinic_id: UUID | None, count: int, starting: datetime
) -> None:
    """`count` reads by a therapist of `clinic_id` (which must exist), or, with no clinic,
    refused reads by no one (401), recorded a millisecond apart after `starting`."""
    await conn.execute(SEED_ACCESS_RECORDS, clinic_id, count, starting)


async def seed_clinic(conn: Connection, clinic_id: UUID) -> None:
    await conn.execute("INSERT INTO clinics (id, name) VALUES ($1, 'seeded')", clinic_id)
