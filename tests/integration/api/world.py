"""A clinic with one person in every role, and a second clinic, built through the API."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
from litestar.testing import AsyncTestClient

from infra.access.clinics import start_clinic
from infra.config import Settings

TOKEN_KEY = "test-token-hash-key"


def app_settings(database_url: str) -> Settings:
    """The API's settings in tests that serve it in-process or behind a server of their own."""
    return Settings(
        database_url=database_url,
        token_hash_key=TOKEN_KEY,
        log_format="json",
        # Limits are their own tests' subject; here a caller makes hundreds of requests.
        rate_limit_requests=0,
    )


@dataclass(frozen=True)
class Person:
    id: UUID
    role: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass(frozen=True)
class Clinic:
    admin: Person
    therapist: Person
    client: Person
    other_client: Person
    other_therapist: Person
    supporter: Person
    auditor: Person
    integration: Person


async def _person(api: AsyncTestClient, admin: Person, role: str, name: str) -> Person:
    created = await api.post(
        "/v1/users",
        json={
            "role": role,
            "display_name": name,
            "email": f"{name.lower().replace(' ', '.')}@example.org",
            "time_zone": "Europe/Berlin",
        },
        headers=admin.headers,
    )
    assert created.status_code == 201, created.text
    user_id = UUID(created.json()["id"])
    return Person(user_id, role, await invited_token(api, admin, user_id))


async def invited_token(api: AsyncTestClient, admin: Person, user_id: UUID) -> str:
    """A token of the user's own: the admin invites them, and they redeem the code."""
    invited = await api.post(f"/v1/users/{user_id}/invitations", headers=admin.headers)
    assert invited.status_code == 201, invited.text
    redeemed = await api.post("/v1/invitations/redemption", json={"code": invited.json()["code"]})
    assert redeemed.status_code == 201, redeemed.text
    token: str = redeemed.json()["token"]
    return token


async def build_clinic(api: AsyncTestClient, pool: asyncpg.Pool, name: str) -> Clinic:
    async with pool.acquire() as conn, conn.transaction():
        admin_user, token = await start_clinic(conn, name, f"admin@{name}.example", TOKEN_KEY)
    admin = Person(admin_user.id, "admin", token.secret)
    people = {
        role: await _person(api, admin, role.split("_")[-1], f"{name} {role}")
        for role in (
            "therapist",
            "client",
            "other_client",
            "other_therapist",
            "supporter",
            "auditor",
            "integration",
        )
    }
    for client, therapist in (("client", "therapist"), ("other_client", "other_therapist")):
        assigned = await api.put(
            f"/v1/clients/{people[client].id}/therapists/{people[therapist].id}",
            headers=admin.headers,
        )
        assert assigned.status_code == 200, assigned.text
    return Clinic(admin=admin, **people)


def goal_body(**overrides: Any) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    body: dict[str, Any] = {
        "statement": "Walk for 30 minutes",
        "life_area": "physical_health",
        "values": ["health", "energy"],
        "measure": {"kind": "count", "target": 3, "unit": "walks", "cadence": "per_week"},
        "cue": "When I finish lunch, I will walk around the park",
        "start_date": (today - timedelta(days=7)).isoformat(),
        "due_date": (today + timedelta(days=60)).isoformat(),
        "priority": "high",
    }
    body.update(overrides)
    return body
