"""A small clinic per test: a therapist, a second therapist and a client, each with a live token,
and one goal of the client's with two check-ins."""

import uuid
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from domain.access.policy import Caller
from domain.goals.commands import Actor, RecordProgress, SetGoal
from domain.goals.terms import Role
from infra.access import identity
from infra.access.clinics import start_clinic, system_metadata
from infra.access.queries import User
from infra.access.tokens import hash_token
from infra.db.connection import Connection
from infra.goals.handler import CommandContext, handle
from tests.integration.projections.goals import CLINIC_OPENED, NOW, terms

HASH_KEY = "goal-request-test-key"
METADATA = system_metadata("goal-request-test")


@dataclass(frozen=True)
class Holder:
    user: User
    token_id: UUID
    secret_hash: bytes

    @property
    def caller(self) -> Caller:
        return Caller(self.user.id, self.user.clinic_id, self.user.role, self.token_id)


@dataclass(frozen=True)
class ClinicWorld:
    clinic_id: UUID
    therapist: Holder
    second_therapist: Holder
    client: Holder
    goal_id: UUID
    """The client's goal, at version 3: set, then two check-ins."""


async def new_token(
    conn: Connection, user: User, lifetime: timedelta = timedelta(hours=1)
) -> Holder:
    issued = await identity.issue_token(
        conn,
        token_id=uuid.uuid4(),
        user_id=user.id,
        lifetime=lifetime,
        hash_key=HASH_KEY,
        metadata=METADATA,
    )
    return Holder(user, issued.token.id, hash_token(issued.secret, HASH_KEY))


async def new_user(conn: Connection, clinic_id: UUID, role: Role, name: str) -> User:
    user = User(uuid.uuid4(), clinic_id, role, name, f"{name}@{clinic_id}.example", "UTC", NOW)
    await identity.register_user(conn, user, METADATA)
    return user


async def new_goal(conn: Connection, client_id: UUID, therapist: Actor, check_ins: int) -> UUID:
    goal_id = uuid.uuid4()
    context = CommandContext(uuid.uuid4(), None, "goal-request-test")
    await handle(conn, SetGoal(goal_id, client_id, terms(), therapist, NOW, CLINIC_OPENED), context)
    for _ in range(check_ins):
        check_in = RecordProgress(goal_id, uuid.uuid4(), 1, NOW, therapist, NOW)
        await handle(conn, check_in, CommandContext(uuid.uuid4(), None, "goal-request-test"))
    return goal_id


async def new_clinic(conn: Connection, name: str) -> ClinicWorld:
    admin, _ = await start_clinic(conn, name, f"admin@{name}.example", HASH_KEY)
    clinic_id = admin.clinic_id
    therapist = await new_user(conn, clinic_id, "therapist", "therapist")
    second_therapist = await new_user(conn, clinic_id, "therapist", "second-therapist")
    client = await new_user(conn, clinic_id, "client", "client")
    for assigned in (therapist, second_therapist):
        assert await identity.assign_therapist(conn, client.id, assigned.id, METADATA)
    goal_id = await new_goal(conn, client.id, Actor(therapist.id, "therapist"), check_ins=2)
    return ClinicWorld(
        clinic_id,
        await new_token(conn, therapist),
        await new_token(conn, second_therapist),
        await new_token(conn, client),
        goal_id,
    )
