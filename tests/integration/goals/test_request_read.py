"""One round trip per batch of goal requests: the token's holder, the goal's client and care team
(only within the holder's clinic) and the goal's events after a version."""

import uuid
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

import pytest

from domain.access.policy import Caller
from domain.goals.commands import Actor, RecordProgress, SetGoal
from domain.goals.terms import Role
from infra.access import identity
from infra.access.clinics import start_clinic, system_metadata
from infra.access.queries import User
from infra.access.tokens import hash_token
from infra.db.connection import Connection
from infra.eventstore.store import read_stream
from infra.goals.handler import CommandContext, handle
from infra.goals.request_read import (
    GoalClient,
    RequestKey,
    RequestRead,
    read_for_request,
    read_for_requests,
)
from infra.goals.streams import goal_stream
from tests.integration.projections.goals import NOW, terms

HASH_KEY = "request-read-test-key"
METADATA = system_metadata("request-read-test")


@dataclass(frozen=True)
class Holder:
    user: User
    token_id: UUID
    secret_hash: bytes

    @property
    def caller(self) -> Caller:
        return Caller(self.user.id, self.user.clinic_id, self.user.role)


@dataclass(frozen=True)
class ClinicWorld:
    clinic_id: UUID
    therapist: Holder
    second_therapist: Holder
    client: Holder
    goal_id: UUID
    """The client's goal, at version 3: set, then two check-ins."""


async def _token(conn: Connection, user: User, lifetime: timedelta = timedelta(hours=1)) -> Holder:
    issued = await identity.issue_token(
        conn,
        token_id=uuid.uuid4(),
        user_id=user.id,
        lifetime=lifetime,
        hash_key=HASH_KEY,
        metadata=METADATA,
    )
    return Holder(user, issued.token.id, hash_token(issued.secret, HASH_KEY))


async def _user(conn: Connection, clinic_id: UUID, role: Role, name: str) -> User:
    user = User(uuid.uuid4(), clinic_id, role, name, f"{name}@{clinic_id}.example", "UTC", NOW)
    await identity.register_user(conn, user, METADATA)
    return user


async def _goal(conn: Connection, client_id: UUID, therapist: Actor, check_ins: int) -> UUID:
    goal_id = uuid.uuid4()
    context = CommandContext(uuid.uuid4(), None, "request-read-test")
    await handle(conn, SetGoal(goal_id, client_id, terms(), therapist, NOW), context)
    for _ in range(check_ins):
        check_in = RecordProgress(goal_id, uuid.uuid4(), 1, NOW, therapist, NOW)
        await handle(conn, check_in, CommandContext(uuid.uuid4(), None, "request-read-test"))
    return goal_id


async def _clinic(conn: Connection, name: str) -> ClinicWorld:
    admin, _ = await start_clinic(conn, name, f"admin@{name}.example", HASH_KEY)
    clinic_id = admin.clinic_id
    therapist = await _user(conn, clinic_id, "therapist", "therapist")
    second_therapist = await _user(conn, clinic_id, "therapist", "second-therapist")
    client = await _user(conn, clinic_id, "client", "client")
    for assigned in (therapist, second_therapist):
        assert await identity.assign_therapist(conn, client.id, assigned.id, METADATA)
    goal_id = await _goal(conn, client.id, Actor(therapist.id, "therapist"), check_ins=2)
    return ClinicWorld(
        clinic_id,
        await _token(conn, therapist),
        await _token(conn, second_therapist),
        await _token(conn, client),
        goal_id,
    )


@pytest.fixture
async def north(conn: Connection) -> ClinicWorld:
    return await _clinic(conn, "north")


@pytest.fixture
async def south(conn: Connection) -> ClinicWorld:
    return await _clinic(conn, "south")


def _care_of(world: ClinicWorld) -> GoalClient:
    return GoalClient(
        world.client.user.id,
        frozenset({world.therapist.user.id, world.second_therapist.user.id}),
    )


async def test_a_live_token_reads_its_holder_the_client_with_therapists_and_newer_events(
    conn: Connection, north: ClinicWorld
) -> None:
    read = await read_for_request(
        conn, RequestKey(north.therapist.secret_hash, north.goal_id, after_version=1)
    )

    assert read.caller == north.therapist.caller
    assert read.caller == Caller(north.therapist.user.id, north.clinic_id, "therapist")
    assert read.client == _care_of(north)
    assert [item.stream_version for item in read.newer] == [2, 3]
    assert read.newer == await read_stream(conn, goal_stream(north.goal_id), 1)
    assert [item.event_type for item in read.newer] == ["progress_recorded"] * 2


@pytest.mark.parametrize(("after_version", "expected"), [(0, [1, 2, 3]), (2, [3]), (3, [])])
async def test_only_events_after_the_folded_version_are_read(
    conn: Connection, north: ClinicWorld, after_version: int, expected: list[int]
) -> None:
    read = await read_for_request(
        conn, RequestKey(north.client.secret_hash, north.goal_id, after_version)
    )

    assert read.caller == north.client.caller
    assert read.client == _care_of(north)
    assert [item.stream_version for item in read.newer] == expected
    assert read.newer == await read_stream(conn, goal_stream(north.goal_id), after_version)


async def test_a_revoked_token_reads_nothing(conn: Connection, north: ClinicWorld) -> None:
    key = RequestKey(north.therapist.secret_hash, north.goal_id, 0)
    assert (await read_for_request(conn, key)).caller == north.therapist.caller

    await identity.revoke_token(conn, north.therapist.token_id, north.therapist.user.id, METADATA)

    assert await read_for_request(conn, key) == RequestRead(None, None, [])


async def test_an_expired_or_unknown_token_reads_nothing(
    conn: Connection, north: ClinicWorld
) -> None:
    expired = await _token(conn, north.therapist.user, lifetime=timedelta(seconds=-1))
    assert expired.secret_hash != north.therapist.secret_hash

    for secret_hash in (expired.secret_hash, hash_token("tg_never-issued", HASH_KEY)):
        read = await read_for_request(conn, RequestKey(secret_hash, north.goal_id, 0))

        assert read == RequestRead(None, None, [])


async def test_another_clinics_goal_reads_the_caller_but_no_client_and_no_events(
    conn: Connection, north: ClinicWorld, south: ClinicWorld
) -> None:
    own_clinic = await read_for_request(
        conn, RequestKey(south.therapist.secret_hash, south.goal_id, 0)
    )

    read = await read_for_request(conn, RequestKey(north.therapist.secret_hash, south.goal_id, 0))

    assert own_clinic.client == _care_of(south)
    assert len(own_clinic.newer) == 3
    assert read == RequestRead(north.therapist.caller, None, [])


async def test_an_unknown_goal_reads_the_caller_but_no_client(
    conn: Connection, north: ClinicWorld
) -> None:
    read = await read_for_request(conn, RequestKey(north.therapist.secret_hash, uuid.uuid4(), 0))

    assert read == RequestRead(north.therapist.caller, None, [])


async def test_a_goal_whose_client_is_not_a_client_user_reads_no_client(
    conn: Connection, north: ClinicWorld
) -> None:
    therapist = Actor(north.therapist.user.id, "therapist")
    goal_of_a_therapist = await _goal(conn, north.second_therapist.user.id, therapist, 0)

    read = await read_for_request(
        conn, RequestKey(north.therapist.secret_hash, goal_of_a_therapist, 0)
    )

    assert read == RequestRead(north.therapist.caller, None, [])


async def test_a_client_without_therapists_reads_an_empty_care_team(
    conn: Connection, north: ClinicWorld
) -> None:
    alone = await _user(conn, north.clinic_id, "client", "unassigned-client")
    goal_id = await _goal(conn, alone.id, Actor(north.therapist.user.id, "therapist"), 1)

    read = await read_for_request(conn, RequestKey(north.therapist.secret_hash, goal_id, 1))

    assert read.client == GoalClient(alone.id, frozenset())
    assert [item.stream_version for item in read.newer] == [2]


async def test_several_requests_in_one_call_each_get_their_own_read_in_order(
    conn: Connection, north: ClinicWorld, south: ClinicWorld
) -> None:
    revoked = await _token(conn, north.therapist.user)
    await identity.revoke_token(conn, revoked.token_id, north.therapist.user.id, METADATA)
    expired = await _token(conn, north.client.user, lifetime=timedelta(seconds=-1))
    keys = [
        RequestKey(north.therapist.secret_hash, north.goal_id, 1),
        RequestKey(revoked.secret_hash, north.goal_id, 0),
        RequestKey(north.therapist.secret_hash, south.goal_id, 0),
        RequestKey(south.client.secret_hash, south.goal_id, 2),
        RequestKey(north.client.secret_hash, uuid.uuid4(), 0),
        RequestKey(expired.secret_hash, north.goal_id, 0),
        RequestKey(north.second_therapist.secret_hash, north.goal_id, 3),
        RequestKey(north.therapist.secret_hash, north.goal_id, 1),
    ]

    reads = await read_for_requests(conn, keys)

    north_newer = await read_stream(conn, goal_stream(north.goal_id), 1)
    south_newer = await read_stream(conn, goal_stream(south.goal_id), 2)
    assert reads == [
        RequestRead(north.therapist.caller, _care_of(north), north_newer),
        RequestRead(None, None, []),
        RequestRead(north.therapist.caller, None, []),
        RequestRead(south.client.caller, _care_of(south), south_newer),
        RequestRead(north.client.caller, None, []),
        RequestRead(None, None, []),
        RequestRead(north.second_therapist.caller, _care_of(north), []),
        RequestRead(north.therapist.caller, _care_of(north), north_newer),
    ]
    assert [len(read.newer) for read in reads] == [2, 0, 0, 1, 0, 0, 0, 2]
    assert reads == [await read_for_request(conn, key) for key in keys]


async def test_no_requests_read_nothing(conn: Connection) -> None:
    assert await read_for_requests(conn, []) == []
