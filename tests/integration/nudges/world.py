"""A clinic for nudge tests: a client, their therapist and a supporter, in time zones of their
own, and goals written through the command handler with the clock the test chooses."""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from uuid import UUID

from domain.goals.commands import Actor, GoalCommand, SetGoal
from domain.goals.terms import Cadence, GoalTerms, Measure, MeasureKind, Role
from infra.access import identity
from infra.access.clinics import start_clinic, system_metadata
from infra.access.queries import User
from infra.db.connection import Connection
from infra.goals.handler import CommandContext, handle
from infra.nudges.consumer import CONSUMER
from infra.projections.goal_summaries import project_goal

METADATA = system_metadata("nudge-test")


@dataclass(frozen=True)
class People:
    clinic_id: UUID
    client: User
    therapist: User
    supporter: User

    @property
    def by_therapist(self) -> Actor:
        return Actor(self.therapist.id, "therapist")


async def _user(conn: Connection, clinic_id: UUID, role: Role, name: str, zone: str) -> User:
    user = User(
        uuid.uuid4(), clinic_id, role, name, f"{name}@{clinic_id}.example", zone, datetime.now(UTC)
    )
    await identity.register_user(conn, user, METADATA)
    return user


async def people(
    conn: Connection,
    *,
    client_zone: str = "America/New_York",
    therapist_zone: str = "Europe/Berlin",
    supporter_zone: str = "UTC",
) -> People:
    admin, _ = await start_clinic(conn, f"clinic {uuid.uuid4().hex[:6]}", "a@x.example", "key")
    clinic_id = admin.clinic_id
    client = await _user(conn, clinic_id, "client", "client", client_zone)
    therapist = await _user(conn, clinic_id, "therapist", "therapist", therapist_zone)
    supporter = await _user(conn, clinic_id, "supporter", "supporter", supporter_zone)
    await identity.assign_therapist(conn, client.id, therapist.id, METADATA)
    return People(clinic_id, client, therapist, supporter)


def terms(
    statement: str,
    *,
    start: date,
    due: date,
    zone: str,
    cadence: Cadence = "per_day",
    kind: MeasureKind = "count",
    target: float = 1,
    cue: str | None = None,
) -> GoalTerms:
    return GoalTerms(
        statement=statement,
        life_area="physical_health",
        values=("health",),
        measure=Measure(kind, target, "times", cadence),
        cue=cue,
        start_date=start,
        due_date=due,
        priority="medium",
        time_zone=zone,
    )


async def run(conn: Connection, world: People, command: GoalCommand) -> None:
    """Runs the command, then brings the goal summaries and the nudges consumer up to date, as
    the workers would."""
    await handle(conn, command, CommandContext(uuid.uuid4(), world.clinic_id, "nudge-test"))
    await project_goal(conn, command.goal_id)
    await CONSUMER.apply(conn, command.goal_id)


async def set_goal(conn: Connection, world: People, goal_terms: GoalTerms, now: datetime) -> UUID:
    goal_id = uuid.uuid4()
    await run(
        conn, world, SetGoal(goal_id, world.client.id, goal_terms, world.by_therapist, now, now)
    )
    return goal_id
