"""Goal histories written straight through the command handler (as the demo writes them), for
projection tests."""

import uuid
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from domain.goals.commands import (
    Actor,
    GoalCommand,
    RecordCorrection,
    RecordProgress,
    SetGoal,
)
from domain.goals.terms import GoalTerms, Measure
from infra.db.connection import Connection
from infra.goals.handler import CommandContext
from infra.goals.writer import write_command

CLINIC = uuid.UUID(int=7)
THERAPIST = Actor(uuid.UUID(int=8), "therapist")
NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
CLINIC_OPENED = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
"""When the clinic CLINIC came to the service."""


def terms(**overrides: object) -> GoalTerms:
    base = GoalTerms(
        statement="Walk for 30 minutes",
        life_area="physical_health",
        values=("health",),
        measure=Measure("count", 3, "walks", "per_week"),
        cue=None,
        start_date=date(2026, 3, 1),
        due_date=date(2026, 6, 1),
        priority="high",
        time_zone="Europe/Berlin",
    )
    return GoalTerms(**{**{f: getattr(base, f) for f in base.__struct_fields__}, **overrides})


async def run(conn: Connection, command: GoalCommand) -> None:
    await write_command(conn, command, CommandContext(uuid.uuid4(), CLINIC, "test"))


async def goal_with_check_ins(conn: Connection, check_ins: int, client: UUID | None = None) -> UUID:
    goal_id = uuid.uuid4()
    await run(
        conn, SetGoal(goal_id, client or uuid.uuid4(), terms(), THERAPIST, NOW, CLINIC_OPENED)
    )
    for day in range(check_ins):
        occurred = NOW - timedelta(days=day)
        await run(conn, RecordProgress(goal_id, uuid.uuid4(), 1, occurred, THERAPIST, NOW))
    return goal_id


async def correct_check_in(conn: Connection, goal_id: UUID, check_in_id: UUID) -> None:
    await run(conn, RecordCorrection(goal_id, "check_in", "typo", THERAPIST, NOW, check_in_id))


async def take_transaction_id(conn: Connection) -> int:
    """Makes the open transaction take its id now, as one does that writes something (an
    idempotency key, another goal) before it appends; returns the id."""
    return int(await conn.fetchval("SELECT pg_current_xact_id()::text"))


async def check_in(conn: Connection, goal_id: UUID, amount: float = 1) -> None:
    await run(conn, RecordProgress(goal_id, uuid.uuid4(), amount, NOW, THERAPIST, NOW))
