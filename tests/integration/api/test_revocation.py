"""Revocation reaches everything: a token revoked takes every token minted from it, no child
outlives its parent or the clinic's longest lifetime, and a user's tokens can be listed (never
their secrets) and revoked all at once."""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from infra.access.credential_rows import MAX_GENERATIONS
from tests.integration.api.access_matrix import footprint
from tests.integration.api.support import assert_problem
from tests.integration.api.world import Clinic, Person

Api = AsyncTestClient[Litestar]


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def _mint(api: Api, person: Person, secret: str, days: int = 90) -> dict[str, Any]:
    minted = await api.post(
        f"/v1/users/{person.id}/tokens", json={"expires_in_days": days}, headers=_bearer(secret)
    )
    assert minted.status_code == 201, minted.text
    body: dict[str, Any] = minted.json()
    return body


async def _works(api: Api, secret: str) -> bool:
    response = await api.get("/v1/me/goals", headers=_bearer(secret))
    assert response.status_code in {200, 401}, response.text
    return response.status_code == 200


async def test_revoking_a_token_revokes_every_token_minted_from_it(
    api: Api, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    client = clinic.client
    child = await _mint(api, client, client.token)
    grandchild = await _mint(api, client, child["token"])
    sibling = await _mint(api, client, client.token)

    revoked = await api.delete(f"/v1/tokens/{child['token_id']}", headers=client.headers)

    assert revoked.status_code == 204, revoked.text
    assert not await _works(api, child["token"])
    assert not await _works(api, grandchild["token"])
    assert await _works(api, sibling["token"])
    assert await _works(api, client.token)
    rows = await pool.fetch(
        "SELECT data->>'token_id' AS token_id, data->>'because_of' AS because_of FROM events "
        "WHERE event_type = 'token_revoked' ORDER BY position"
    )
    assert [(row["token_id"], row["because_of"]) for row in rows] == [
        (child["token_id"], None),
        (grandchild["token_id"], child["token_id"]),
    ]


async def test_a_descendant_of_a_revoked_token_never_authenticates(
    api: Api, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    client = clinic.client
    child = await _mint(api, client, client.token)
    grandchild = await _mint(api, client, child["token"])
    # Only the parent marked, as if its descendants' marks were not written yet.
    marked = await pool.execute(
        "UPDATE access_tokens SET revoked_at = now() WHERE id = $1", UUID(child["token_id"])
    )
    assert marked == "UPDATE 1"

    assert not await _works(api, grandchild["token"])
    assert await _works(api, client.token)


async def test_a_token_never_outlives_its_parent_nor_the_clinics_longest_lifetime(
    api: Api, clinic: Clinic
) -> None:
    client = clinic.client
    short = await _mint(api, client, client.token, days=10)
    child = await _mint(api, client, short["token"], days=365)

    assert child["expires_at"] <= short["expires_at"]
    capped = await _mint(api, client, client.token, days=365)
    longest = datetime.now(UTC) + timedelta(days=90, minutes=1)
    assert datetime.fromisoformat(capped["expires_at"]) < longest


async def test_lowering_the_clinics_longest_lifetime_ends_older_tokens(
    api: Api, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    client = clinic.client
    old = await _mint(api, client, client.token)
    await pool.execute(
        "UPDATE access_tokens SET created_at = now() - interval '10 days' WHERE id = $1",
        UUID(old["token_id"]),
    )
    assert await _works(api, old["token"])

    changed = await api.put(
        "/v1/clinic/settings",
        json={"active_goal_limit": 5, "default_time_zone": "UTC", "max_token_lifetime_days": 7},
        headers=clinic.admin.headers,
    )

    assert changed.status_code == 200, changed.text
    assert not await _works(api, old["token"])
    assert await _works(api, client.token)
    fresh = await _mint(api, client, client.token, days=30)
    assert datetime.fromisoformat(fresh["expires_at"]) < datetime.now(UTC) + timedelta(days=7)


async def test_a_users_tokens_are_listed_to_them_and_their_admin_without_secrets(
    api: Api, clinic: Clinic, other_clinic: Clinic
) -> None:
    client = clinic.client
    minted = [await _mint(api, client, client.token) for _ in range(3)]

    pages: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = await api.get(f"/v1/users/{client.id}/tokens", params=params, headers=client.headers)
        assert page.status_code == 200, page.text
        pages += page.json()["tokens"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    by_admin = await api.get(f"/v1/users/{client.id}/tokens", headers=clinic.admin.headers)

    assert len(pages) == 4
    assert [token["token_id"] for token in pages[:3]] == [m["token_id"] for m in reversed(minted)]
    assert by_admin.json()["tokens"] == pages
    for token in pages:
        assert set(token) == {
            "token_id",
            "user_id",
            "parent_id",
            "issued_by",
            "invitation_id",
            "created_at",
            "expires_at",
            "revoked_at",
        }
    for secret in [m["token"] for m in minted] + [client.token]:
        assert secret not in by_admin.text
    for outsider in (clinic.therapist, other_clinic.admin):
        refused = await api.get(f"/v1/users/{client.id}/tokens", headers=outsider.headers)
        assert_problem(refused, 404, "not_found")
    too_many = await api.get(
        f"/v1/users/{client.id}/tokens", params={"limit": 101}, headers=client.headers
    )
    assert_problem(too_many, 422, "invalid_input")
    assert too_many.json()["errors"][0]["field"] == "limit"
    bad_cursor = await api.get(
        f"/v1/users/{client.id}/tokens", params={"cursor": "bm90IG91cnM"}, headers=client.headers
    )
    assert_problem(bad_cursor, 400, "invalid_cursor")


@pytest.mark.parametrize("by", ["admin", "client"])
async def test_all_of_a_users_tokens_are_revoked_at_once(api: Api, clinic: Clinic, by: str) -> None:
    client = clinic.client
    minted = [await _mint(api, client, client.token) for _ in range(2)]
    caller = clinic.admin if by == "admin" else client

    revoked = await api.delete(f"/v1/users/{client.id}/tokens", headers=caller.headers)

    assert revoked.status_code == 200, revoked.text
    assert len(revoked.json()["revoked"]) == 3
    for secret in [m["token"] for m in minted] + [client.token]:
        assert not await _works(api, secret)
    assert await _works(api, clinic.therapist.token)
    admin = await api.get(f"/v1/users/{clinic.admin.id}", headers=clinic.admin.headers)
    assert admin.status_code == 200, admin.text


async def test_401_answers_carry_a_bearer_challenge(api: Api, clinic: Clinic) -> None:
    missing = await api.get("/v1/me/goals")
    invalid = await api.get("/v1/me/goals", headers=_bearer("tg_not-a-real-token"))
    revoked = await _mint(api, clinic.client, clinic.client.token)
    await api.delete(f"/v1/tokens/{revoked['token_id']}", headers=clinic.client.headers)
    on_a_goal = await api.post(
        "/v1/goals/00000000-0000-0000-0000-000000000000/check-ins",
        json={"amount": 1},
        headers=_bearer(revoked["token"]),
    )

    assert_problem(missing, 401, "not_authenticated")
    challenge = missing.headers["www-authenticate"]
    assert challenge.startswith("Bearer")
    assert "error=" not in challenge
    for response in (invalid, on_a_goal):
        assert_problem(response, 401, "not_authenticated")
        assert response.headers["www-authenticate"].startswith("Bearer ")
        assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_a_chain_of_tokens_minted_from_tokens_has_a_bounded_depth(
    api: Api, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    secret = clinic.client.token
    for _ in range(MAX_GENERATIONS):
        secret = (await _mint(api, clinic.client, secret))["token"]
    before = await footprint(pool)

    too_deep = await api.post(
        f"/v1/users/{clinic.client.id}/tokens", json={}, headers=_bearer(secret)
    )

    assert_problem(too_deep, 422, "token_chain_too_deep")
    assert await footprint(pool) == before
