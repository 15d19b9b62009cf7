"""Nobody holds another person's credential: an admin invites, and only the holder of the
invitation's code redeems it, once, for a token of their own; every write names its token."""

import json
from typing import Any
from uuid import UUID

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.integration.api.access_matrix import footprint
from tests.integration.api.support import assert_problem, set_goal
from tests.integration.api.world import Clinic, Person

Api = AsyncTestClient[Litestar]
REDEEM = "/v1/invitations/redemption"


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def _new_client(api: Api, clinic: Clinic, name: str = "Riley") -> UUID:
    created = await api.post(
        "/v1/users",
        json={"role": "client", "display_name": name, "email": f"{name.lower()}@example.org"},
        headers=clinic.admin.headers,
    )
    assert created.status_code == 201, created.text
    return UUID(created.json()["id"])


async def _invite(api: Api, admin: Person, user_id: UUID) -> dict[str, Any]:
    invited = await api.post(f"/v1/users/{user_id}/invitations", headers=admin.headers)
    assert invited.status_code == 201, invited.text
    body: dict[str, Any] = invited.json()
    return body


async def _events(pool: asyncpg.Pool, user_id: UUID) -> list[tuple[str, dict[str, Any], Any]]:
    rows = await pool.fetch(
        "SELECT event_type, data::text AS data, metadata::text AS metadata FROM events "
        "WHERE stream_id = $1 ORDER BY stream_version",
        f"user-{user_id}",
    )
    return [
        (row["event_type"], json.loads(row["data"]), json.loads(row["metadata"])) for row in rows
    ]


async def test_an_admin_gets_no_token_of_another_person_and_nothing_is_written(
    api: Api, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    before = await footprint(pool)

    response = await api.post(
        f"/v1/users/{clinic.client.id}/tokens", json={}, headers=clinic.admin.headers
    )

    assert_problem(response, 403, "forbidden")
    assert "token" not in response.json()
    assert "invitations" in response.json()["detail"]
    assert await footprint(pool) == before


async def test_an_invited_user_redeems_the_code_once_for_their_own_token(
    api: Api, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    user_id = await _new_client(api, clinic)
    invited = await _invite(api, clinic.admin, user_id)
    assert invited["user_id"] == str(user_id)
    assert invited["delivery"] == "response"
    code = invited["code"]
    assert code.startswith("tgi_")

    redeemed = await api.post(REDEEM, json={"code": code})
    again = await api.post(REDEEM, json={"code": code})

    assert redeemed.status_code == 201, redeemed.text
    assert redeemed.headers["cache-control"] == "no-store"
    token = redeemed.json()
    assert token["user_id"] == str(user_id)
    me = await api.get(f"/v1/users/{user_id}", headers=_bearer(token["token"]))
    assert me.status_code == 200, me.text
    assert_problem(again, 400, "invalid_invitation")
    # The admin's credential did not become the client's, nor the client's the admin's.
    assert (await api.get("/v1/me/goals", headers=_bearer(token["token"]))).status_code == 200
    listed = await api.get(f"/v1/users/{user_id}/tokens", headers=clinic.admin.headers)
    (issued,) = listed.json()["tokens"]
    assert issued["issued_by"] == str(clinic.admin.id)
    assert issued["invitation_id"] == invited["invitation_id"]
    assert issued["parent_id"] is None
    stored = await pool.fetchval(
        "SELECT count(*) FROM invitations i, events e WHERE e.data::text LIKE $1 "
        "OR i.code_hash::text LIKE $1",
        f"%{code.removeprefix('tgi_')}%",
    )
    assert stored == 0

    events = await _events(pool, user_id)
    types = [event_type for event_type, _, _ in events]
    assert types == ["user_registered", "invitation_created", "token_issued", "invitation_redeemed"]
    _, created, invited_by = events[1]
    assert invited_by["actor_id"] == str(clinic.admin.id)
    assert invited_by["token_id"]
    for _, _, metadata in events[2:]:
        # The redemption is the user's own act, written with the token it gave them.
        assert metadata["actor_id"] == str(user_id)
        assert metadata["token_id"] == token["token_id"]
    assert created["expires_at"] == invited["expires_at"]


async def test_a_code_that_is_unknown_expired_withdrawn_or_for_a_deactivated_user_is_refused(
    api: Api, clinic: Clinic, admin_conn: asyncpg.Connection, pool: asyncpg.Pool
) -> None:
    expired_for = await _new_client(api, clinic, "Morgan")
    expired = (await _invite(api, clinic.admin, expired_for))["code"]
    await admin_conn.execute(
        "UPDATE invitations SET expires_at = now() - interval '1 second' WHERE user_id = $1",
        expired_for,
    )
    replaced_for = await _new_client(api, clinic, "Casey")
    replaced = (await _invite(api, clinic.admin, replaced_for))["code"]
    newer = (await _invite(api, clinic.admin, replaced_for))["code"]
    leaving = await _new_client(api, clinic, "Avery")
    pending = (await _invite(api, clinic.admin, leaving))["code"]
    deactivated = await api.post(f"/v1/users/{leaving}/deactivation", headers=clinic.admin.headers)
    assert deactivated.status_code == 200, deactivated.text
    before = await footprint(pool)

    for code in (expired, replaced, pending, "tgi_" + "A" * 43, "tg_not-an-invitation"):
        assert_problem(await api.post(REDEEM, json={"code": code}), 400, "invalid_invitation")

    assert await footprint(pool) == before
    assert (await api.post(REDEEM, json={"code": newer})).status_code == 201
    withdrawn = [event for event, _, _ in await _events(pool, replaced_for)]
    assert withdrawn.count("invitation_withdrawn") == 1


async def test_only_admins_invite_and_only_users_of_their_clinic(
    api: Api, clinic: Clinic, other_clinic: Clinic, pool: asyncpg.Pool
) -> None:
    before = await footprint(pool)
    by_therapist = await api.post(
        f"/v1/users/{clinic.client.id}/invitations", headers=clinic.therapist.headers
    )
    by_other_admin = await api.post(
        f"/v1/users/{clinic.client.id}/invitations", headers=other_clinic.admin.headers
    )

    assert_problem(by_therapist, 403, "forbidden")
    assert_problem(by_other_admin, 404, "not_found")
    assert await footprint(pool) == before


async def test_a_retried_invitation_does_not_show_the_code_again(api: Api, clinic: Clinic) -> None:
    user_id = await _new_client(api, clinic)
    headers = {**clinic.admin.headers, "Idempotency-Key": "invite-riley"}

    first = await api.post(f"/v1/users/{user_id}/invitations", headers=headers)
    retried = await api.post(f"/v1/users/{user_id}/invitations", headers=headers)

    assert first.json()["code"]
    assert retried.headers["idempotent-replayed"] == "true"
    assert "code" not in retried.json()


async def test_every_write_names_the_token_it_was_written_with(
    api: Api, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    phone = await api.post(
        f"/v1/users/{clinic.client.id}/tokens", json={}, headers=clinic.client.headers
    )
    assert phone.status_code == 201, phone.text
    goal = await set_goal(api, clinic)
    checked = await api.post(
        f"/v1/goals/{goal['goal_id']}/check-ins",
        json={"amount": 1},
        headers=_bearer(phone.json()["token"]),
    )
    assert checked.status_code == 200, checked.text
    therapist_tokens = await api.get(
        f"/v1/users/{clinic.therapist.id}/tokens", headers=clinic.therapist.headers
    )
    (therapist_token,) = therapist_tokens.json()["tokens"]

    rows = await pool.fetch(
        "SELECT event_type, metadata->>'token_id' AS token_id FROM events "
        "WHERE stream_id = $1 ORDER BY stream_version",
        f"goal-{goal['goal_id']}",
    )

    assert [(row["event_type"], row["token_id"]) for row in rows] == [
        ("goal_set", therapist_token["token_id"]),
        ("progress_recorded", phone.json()["token_id"]),
    ]
    minted = await _events(pool, clinic.client.id)
    issued = [data for event_type, data, _ in minted if event_type == "token_issued"][-1]
    assert issued["parent_id"] == (await _token_of(api, clinic.client))["token_id"]
    assert issued["issued_by"] == str(clinic.client.id)


async def _token_of(api: Api, person: Person) -> dict[str, Any]:
    """The person's first token: the one they redeemed their invitation for."""
    listed = await api.get(f"/v1/users/{person.id}/tokens", headers=person.headers)
    token: dict[str, Any] = listed.json()["tokens"][-1]
    return token
