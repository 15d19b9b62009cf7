"""One round trip per batch of goal requests: the token's holder, the goal's client and care team
(only within the holder's clinic) and the goal's events after a version."""

import uuid
from datetime import timedelta

import pytest

from domain.access.policy import Caller
from domain.goals.commands import Actor
from infra.access import identity
from infra.access.tokens import hash_token
from infra.db.connection import Connection
from infra.eventstore.store import read_stream
from infra.goals.request_read import (
    GoalClient,
    RequestKey,
    RequestRead,
    read_for_request,
    read_for_requests,
)
from infra.goals.streams import goal_stream
from tests.integration.goals.clinics import (
    HASH_KEY,
    METADATA,
    ClinicWorld,
    new_goal,
    new_token,
    new_user,
)


def _care_of(world: ClinicWorld) -> GoalClient:
    return GoalClient(
        world.client.user.id,
        world.clinic_id,
        frozenset({world.therapist.user.id, world.second_therapist.user.id}),
    )


async def test_a_live_token_reads_its_holder_the_client_with_therapists_and_newer_events(
    conn: Connection, north: ClinicWorld
) -> None:
    read = await read_for_request(
        conn, RequestKey(north.therapist.secret_hash, north.goal_id, after_version=1)
    )

    assert read.caller == north.therapist.caller
    assert read.caller == Caller(
        north.therapist.user.id, north.clinic_id, "therapist", north.therapist.token_id
    )
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
    expired = await new_token(conn, north.therapist.user, lifetime=timedelta(seconds=-1))
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
    goal_of_a_therapist = await new_goal(conn, north.second_therapist.user.id, therapist, 0)

    read = await read_for_request(
        conn, RequestKey(north.therapist.secret_hash, goal_of_a_therapist, 0)
    )

    assert read == RequestRead(north.therapist.caller, None, [])


async def test_a_client_without_therapists_reads_an_empty_care_team(
    conn: Connection, north: ClinicWorld
) -> None:
    alone = await new_user(conn, north.clinic_id, "client", "unassigned-client")
    goal_id = await new_goal(conn, alone.id, Actor(north.therapist.user.id, "therapist"), 1)

    read = await read_for_request(conn, RequestKey(north.therapist.secret_hash, goal_id, 1))

    assert read.client == GoalClient(alone.id, north.clinic_id, frozenset())
    assert [item.stream_version for item in read.newer] == [2]


async def test_several_requests_in_one_call_each_get_their_own_read_in_order(
    conn: Connection, north: ClinicWorld, south: ClinicWorld
) -> None:
    revoked = await new_token(conn, north.therapist.user)
    await identity.revoke_token(conn, revoked.token_id, north.therapist.user.id, METADATA)
    expired = await new_token(conn, north.client.user, lifetime=timedelta(seconds=-1))
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
