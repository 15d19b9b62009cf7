"""Bearer tokens: unguessable, stored only as a keyed hash, and dead once expired or revoked."""

import base64
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from infra.access.tokens import hash_token
from tests.integration.api.support import assert_problem
from tests.integration.api.world import TOKEN_KEY, Clinic, Person

_RANDOM_BYTES = 32


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def _issue(api: AsyncTestClient[Litestar], clinic: Clinic, person: Person) -> dict[str, Any]:
    issued = await api.post(f"/v1/users/{person.id}/tokens", json={}, headers=person.headers)
    assert issued.status_code == 201, issued.text
    body: dict[str, Any] = issued.json()
    return body


async def test_an_expired_token_is_not_accepted(
    api: AsyncTestClient[Litestar], clinic: Clinic, pool: asyncpg.Pool
) -> None:
    token = clinic.client.token
    assert (await api.get("/v1/me/goals", headers=clinic.client.headers)).status_code == 200

    expired = await pool.execute(
        "UPDATE access_tokens SET expires_at = now() - interval '1 second' WHERE secret_hash = $1",
        hash_token(token, TOKEN_KEY),
    )
    assert expired == "UPDATE 1"

    response = await api.get("/v1/me/goals", headers=clinic.client.headers)
    assert_problem(response, 401, "not_authenticated")


async def test_a_revoked_token_is_not_accepted_and_others_still_are(
    api: AsyncTestClient[Litestar], clinic: Clinic
) -> None:
    phone = await _issue(api, clinic, clinic.client)
    assert (await api.get("/v1/me/goals", headers=_bearer(phone["token"]))).status_code == 200

    revoked = await api.delete(f"/v1/tokens/{phone['token_id']}", headers=clinic.client.headers)
    assert revoked.status_code == 204, revoked.text

    response = await api.get("/v1/me/goals", headers=_bearer(phone["token"]))
    assert_problem(response, 401, "not_authenticated")
    assert (await api.get("/v1/me/goals", headers=clinic.client.headers)).status_code == 200
    again = await api.delete(f"/v1/tokens/{phone['token_id']}", headers=clinic.client.headers)
    assert_problem(again, 404, "not_found")


async def test_a_token_can_revoke_itself(api: AsyncTestClient[Litestar], clinic: Clinic) -> None:
    laptop = await _issue(api, clinic, clinic.therapist)

    revoked = await api.delete(f"/v1/tokens/{laptop['token_id']}", headers=_bearer(laptop["token"]))

    assert revoked.status_code == 204, revoked.text
    response = await api.get("/v1/me/goals", headers=_bearer(laptop["token"]))
    assert_problem(response, 401, "not_authenticated")


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Token tg_abc",
        "Bearer tg_not-a-real-token",
        "Bearer " + "A" * 43,
    ],
    ids=[
        "missing",
        "empty",
        "scheme only",
        "blank credentials",
        "basic",
        "other scheme",
        "unknown token",
        "token-shaped",
    ],
)
async def test_a_request_without_valid_credentials_is_not_authenticated(
    module_api: AsyncTestClient[Litestar], module_clinic: Clinic, authorization: str | None
) -> None:
    """Refusals that write nothing: the cases share the module's database, app and clinic."""
    headers = {} if authorization is None else {"Authorization": authorization}

    for response in (
        await module_api.get("/v1/me/goals", headers=headers),
        await module_api.post("/v1/goals", json={}, headers=headers),
        await module_api.get(f"/v1/users/{module_clinic.client.id}", headers=headers),
    ):
        assert_problem(response, 401, "not_authenticated")


async def test_tokens_carry_256_random_bits(api: AsyncTestClient[Litestar], clinic: Clinic) -> None:
    secrets = [(await _issue(api, clinic, clinic.client))["token"] for _ in range(16)]

    assert len(set(secrets)) == len(secrets)
    raw = []
    for secret in secrets:
        prefix, _, encoded = secret.partition("_")
        assert prefix == "tg"
        decoded = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        assert len(decoded) >= _RANDOM_BYTES
        raw.append(decoded)
    # 512 random bytes cover about 221 of the 256 byte values, and about half their bits are
    # set; a counter, a timestamp or a short random part padded out would fall far below.
    pooled = b"".join(raw)
    assert len(set(pooled)) > 180
    ones = sum(bin(byte).count("1") for byte in pooled)
    assert 0.45 < ones / (8 * len(pooled)) < 0.55


async def test_only_a_keyed_hash_of_a_token_is_stored(
    api: AsyncTestClient[Litestar], clinic: Clinic, pool: asyncpg.Pool
) -> None:
    issued = await _issue(api, clinic, clinic.client)
    secret = issued["token"]
    encoded = secret.removeprefix("tg_")

    stored = await pool.fetchrow(
        "SELECT secret_hash FROM access_tokens WHERE id = $1", issued["token_id"]
    )
    assert stored is not None
    assert bytes(stored["secret_hash"]) == hash_token(secret, TOKEN_KEY)
    assert bytes(stored["secret_hash"]) != hash_token(secret, "another key")

    tables = [
        row["table_name"]
        for row in await pool.fetch(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        )
    ]
    assert {"access_tokens", "events", "idempotency_keys"} <= set(tables)
    for table in tables:
        found = await pool.fetchval(
            f'SELECT count(*) FROM "{table}" AS t WHERE t::text LIKE $1',
            f"%{encoded}%",
        )
        assert found == 0, f"the token appears in {table}"
    issued_events = await pool.fetch(
        "SELECT data::text FROM events "
        "WHERE event_type = 'token_issued' AND data->>'token_id' = $1",
        issued["token_id"],
    )
    assert len(issued_events) == 1
