"""A clinic with one person in every role, and a second clinic, built through the API."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
from litestar.testing import AsyncTestClient

from infra.access.clinics import start_clinic

TOKEN_KEY = "test-token-hash-key"


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
    issued = await api.post(f"/v1/users/{user_id}/tokens", json={}, headers=admin.headers)
    assert issued.status_code == 201, issued.text
    return Person(user_id, role, issued.json()["token"])


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
