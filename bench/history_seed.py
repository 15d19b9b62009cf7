"""Long goal histories for the benchmarks, inserted straight into the log in bulk.

Each event is one the API would have appended: a goal set by the clinic's therapist for its
client, and check-ins of one walk each, in the goal's time, with ids of their own; each stream's
head is moved to its last event. Only the metadata's correlation id says they were seeded.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from bench.api_checkins import CLIENT_TOKEN_LIFETIME, goal_terms
from domain.goals.events import GoalSet
from infra.access import identity
from infra.access.clinics import start_clinic, system_metadata
from infra.access.queries import User
from infra.db.connection import Connection
from infra.eventstore.envelope import Metadata
from infra.eventstore.store import metadata_json
from infra.goals import codec
from infra.goals.streams import goal_stream

CORRELATION_ID = "bench-history-seed"
_GOALS_PER_STATEMENT = 5_000


@dataclass(frozen=True)
class Clinic:
    hash_key: str
    token: str
    clinic_id: UUID
    therapist_id: UUID
    client_id: UUID


async def seed_clinic(conn: Connection, hash_key: str) -> Clinic:
    admin, _ = await start_clinic(conn, "Bench clinic", "admin@bench.example", hash_key)
    metadata = system_metadata(CORRELATION_ID)
    now = datetime.now(UTC)
    clinic_id = admin.clinic_id
    therapist = User(
        uuid4(), clinic_id, "therapist", "Bench therapist", "therapist@bench.example", "UTC", now
    )
    client = User(uuid4(), clinic_id, "client", "Bench client", "client@bench.example", "UTC", now)
    for user in (therapist, client):
        await identity.register_user(conn, user, metadata)
    await identity.assign_therapist(conn, client.id, therapist.id, metadata)
    token = await identity.issue_token(
        conn,
        token_id=uuid4(),
        user_id=client.id,
        lifetime=CLIENT_TOKEN_LIFETIME,
        hash_key=hash_key,
        metadata=metadata,
    )
    return Clinic(hash_key, token.secret, clinic_id, therapist.id, client.id)


def _metadata(clinic: Clinic, actor_id: UUID, role: str) -> str:
    return metadata_json(
        Metadata(
            actor_id=actor_id,
            actor_role=role,
            clinic_id=clinic.clinic_id,
            correlation_id=CORRELATION_ID,
        )
    )


async def seed_goals(conn: Connection, clinic: Clinic, count: int) -> list[UUID]:
    """`count` goals of the clinic's client, each at version 1."""
    terms = goal_terms(datetime.now(UTC).date())
    goal_ids = [uuid4() for _ in range(count)]
    metadata = _metadata(clinic, clinic.therapist_id, "therapist")
    records = [
        (
            goal_stream(goal_id),
            1,
            uuid4(),
            "goal_set",
            codec.encode_event(GoalSet(goal_id, clinic.client_id, terms)),
            metadata,
        )
        for goal_id in goal_ids
    ]
    await conn.executemany(
        "INSERT INTO events (stream_id, stream_version, event_id, event_type, data, metadata) "
        "VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb)",
        records,
    )
    await conn.executemany(
        "INSERT INTO streams (stream_id, version) VALUES ($1, 1)",
        [(goal_stream(goal_id),) for goal_id in goal_ids],
    )
    return goal_ids


# The JSON that `codec.encode_event` gives a `ProgressRecorded`, built by the database for each
# row, in the order of the check-ins' moments.
_CHECK_INS = """
INSERT INTO events (stream_id, stream_version, event_id, event_type, data, metadata)
SELECT 'goal-' || g.goal_id::text, s.version + n, gen_random_uuid(), 'progress_recorded',
    jsonb_build_object('type', 'progress_recorded', 'goal_id', g.goal_id::text,
        'check_in_id', gen_random_uuid()::text, 'amount', 1.0,
        'occurred_at', to_char(($3::timestamptz - make_interval(secs => ($2 - n)::float8))
            AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
        'note', null),
    $4::jsonb
FROM unnest($1::uuid[]) AS g (goal_id)
JOIN streams s ON s.stream_id = 'goal-' || g.goal_id::text
CROSS JOIN generate_series(1, $2) AS n
ORDER BY g.goal_id, n
"""

_MOVE_HEADS = """
UPDATE streams SET version = version + $2 WHERE stream_id = ANY($1::text[])
"""


async def seed_check_ins(
    conn: Connection, clinic: Clinic, goal_ids: list[UUID], per_goal: int
) -> None:
    """`per_goal` more check-ins by the client on each goal, a second apart, the latest a minute
    ago (within the goal's time, since it started a week ago)."""
    if per_goal <= 0:
        return
    metadata = _metadata(clinic, clinic.client_id, "client")
    latest = datetime.now(UTC) - timedelta(minutes=1)
    for start in range(0, len(goal_ids), _GOALS_PER_STATEMENT):
        chunk = goal_ids[start : start + _GOALS_PER_STATEMENT]
        async with conn.transaction():
            await conn.execute(_CHECK_INS, chunk, per_goal, latest, metadata)
            await conn.execute(_MOVE_HEADS, [goal_stream(goal_id) for goal_id in chunk], per_goal)
