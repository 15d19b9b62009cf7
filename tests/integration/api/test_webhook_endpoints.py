"""Webhook endpoints over HTTP: who may manage them, what is refused, and the deliveries they
show. Names resolve through a stub resolver; nothing connects anywhere."""

import ipaddress
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from infra.webhooks import fanout
from infra.webhooks.addresses import Address, AddressGuard
from tests.integration.api.support import assert_problem, row_counts, set_goal
from tests.integration.api.world import Clinic, Person

HOOKS = "https://hooks.example.org/in"
NAMES = {"hooks.example.org": "93.184.216.34", "intranet.example.org": "10.1.2.3"}


@pytest.fixture(autouse=True)
def stub_resolver(api: AsyncTestClient[Litestar]) -> None:
    async def resolve(host: str, port: int) -> list[Address]:
        if host not in NAMES:
            raise OSError("unknown host")
        return [ipaddress.ip_address(NAMES[host])]

    api.app.state.webhook_guard = AddressGuard(resolver=resolve)


async def _create(
    api: AsyncTestClient[Litestar], person: Person, **overrides: Any
) -> dict[str, Any]:
    body = {"url": HOOKS, "event_types": ["goal.set", "goal.achieved"], **overrides}
    created = await api.post("/v1/webhook-endpoints", json=body, headers=person.headers)
    assert created.status_code == 201, created.text
    answer: dict[str, Any] = created.json()
    return answer


async def test_admins_and_integration_users_register_endpoints_with_a_secret_shown_once(
    api: AsyncTestClient[Litestar], clinic: Clinic
) -> None:
    by_admin = await _create(api, clinic.admin, description="EHR")
    by_integration = await _create(api, clinic.integration, event_types=["*"], format="full")
    as_fhir = await _create(api, clinic.integration, format="fhir")

    assert by_admin["secret"].startswith("whsec_")
    assert by_admin["format"] == "id-only"
    assert (by_admin["enabled"], by_admin["last_sequence"]) == (True, 0)
    assert (by_integration["format"], as_fhir["format"]) == ("full", "fhir")
    shown = await api.get(f"/v1/webhook-endpoints/{by_admin['id']}", headers=clinic.admin.headers)
    assert shown.status_code == 200
    assert "secret" not in shown.json()
    listed = await api.get("/v1/webhook-endpoints", headers=clinic.integration.headers)
    assert [item["id"] for item in listed.json()["endpoints"]] == [
        by_admin["id"],
        by_integration["id"],
        as_fhir["id"],
    ]


async def test_a_retried_registration_registers_once_and_keeps_no_secret(
    api: AsyncTestClient[Litestar], clinic: Clinic, pool: asyncpg.Pool
) -> None:
    body = {"url": HOOKS, "event_types": ["*"]}
    headers = {**clinic.admin.headers, "Idempotency-Key": "register-ehr"}
    first = await api.post("/v1/webhook-endpoints", json=body, headers=headers)
    again = await api.post("/v1/webhook-endpoints", json=body, headers=headers)

    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json()["secret"].startswith("whsec_")
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert "secret" not in again.json()
    assert await pool.fetchval("SELECT count(*) FROM webhook_endpoints") == 1
    kept = await pool.fetchval("SELECT body FROM idempotency_keys")
    assert b"whsec_" not in kept


async def test_nobody_else_may(api: AsyncTestClient[Litestar], clinic: Clinic) -> None:
    endpoint = await _create(api, clinic.admin)
    path = f"/v1/webhook-endpoints/{endpoint['id']}"
    body = {"url": HOOKS, "event_types": ["*"]}
    for person in (clinic.therapist, clinic.client, clinic.supporter, clinic.auditor):
        refused = await api.post("/v1/webhook-endpoints", json=body, headers=person.headers)
        assert_problem(refused, 403, "forbidden")
        assert_problem(
            await api.get("/v1/webhook-endpoints", headers=person.headers), 403, "forbidden"
        )
        assert_problem(await api.get(path, headers=person.headers), 403, "forbidden")
        assert_problem(
            await api.post(path + "/replay", json={"since_sequence": 1}, headers=person.headers),
            403,
            "forbidden",
        )


async def test_another_clinic_sees_nothing_of_them(
    api: AsyncTestClient[Litestar], clinic: Clinic, other_clinic: Clinic
) -> None:
    endpoint = await _create(api, clinic.admin)
    path = f"/v1/webhook-endpoints/{endpoint['id']}"
    other = other_clinic.admin.headers

    assert_problem(await api.get(path, headers=other), 404, "not_found")
    assert_problem(
        await api.patch(path, json={"description": "x"}, headers=other), 404, "not_found"
    )
    assert_problem(await api.delete(path, headers=other), 404, "not_found")
    assert_problem(await api.post(path + "/rotate-secret", headers=other), 404, "not_found")
    assert_problem(await api.get(path + "/deliveries", headers=other), 404, "not_found")
    listed = await api.get("/v1/webhook-endpoints", headers=other)
    assert listed.json()["endpoints"] == []


REFUSALS: list[tuple[dict[str, Any], str, str]] = [
    ({"url": "http://hooks.example.org/in"}, "url_not_https", "url"),
    ({"url": "https://intranet.example.org/"}, "forbidden_address", "url"),
    ({"url": "https://[::ffff:10.0.0.1]/"}, "forbidden_address", "url"),
    ({"url": "https://169.254.169.254/latest"}, "forbidden_address", "url"),
    ({"url": "https://nowhere.example.org/"}, "unresolvable_host", "url"),
    ({"event_types": ["goal.set", "goal_set"]}, "unknown_event_type", "event_types[1]"),
    ({"event_types": ["*", "goal.set"]}, "unknown_event_type", "event_types[0]"),
    ({"event_types": []}, "invalid_input", "event_types"),
    ({"format": "xml"}, "invalid_input", "format"),
]


async def test_refusals_name_the_field_and_write_nothing(
    api: AsyncTestClient[Litestar], clinic: Clinic, pool: asyncpg.Pool
) -> None:
    before = await row_counts(pool)
    for body, code, field in REFUSALS:
        sent = {"url": HOOKS, "event_types": ["*"], **body}
        refused = await api.post("/v1/webhook-endpoints", json=sent, headers=clinic.admin.headers)
        problem = assert_problem(refused, 422, code)
        assert problem["errors"][0]["field"] == field, body
    assert await row_counts(pool) == before


async def test_change_disable_enable_rotate_and_delete(
    api: AsyncTestClient[Litestar], clinic: Clinic
) -> None:
    endpoint = await _create(api, clinic.admin)
    path = f"/v1/webhook-endpoints/{endpoint['id']}"
    headers = clinic.admin.headers

    changed = await api.patch(
        path, json={"event_types": ["nudge.sent"], "description": "SMS"}, headers=headers
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["event_types"], changed.json()["url"]) == (["nudge.sent"], HOOKS)
    refused = await api.patch(path, json={"url": "https://intranet.example.org/"}, headers=headers)
    assert_problem(refused, 422, "forbidden_address")

    disabled = await api.post(path + "/disable", headers=headers)
    assert (disabled.json()["enabled"], disabled.json()["disabled_reason"]) == (False, "by_user")
    enabled = await api.post(path + "/enable", headers=headers)
    assert (enabled.json()["enabled"], enabled.json()["disabled_reason"]) == (True, None)

    keyed = {**headers, "Idempotency-Key": "rotate-once"}
    rotated = await api.post(path + "/rotate-secret", headers=keyed)
    assert rotated.status_code == 200, rotated.text
    retried = await api.post(path + "/rotate-secret", headers=keyed)
    assert retried.json() == {
        "previous_secret_expires_at": rotated.json()["previous_secret_expires_at"]
    }
    assert rotated.json()["secret"].startswith("whsec_")
    assert rotated.json()["secret"] != endpoint["secret"]
    until = datetime.fromisoformat(rotated.json()["previous_secret_expires_at"])
    assert abs(until - datetime.now(UTC) - timedelta(hours=24)) < timedelta(minutes=1)

    deleted = await api.delete(path, headers=headers)
    assert deleted.status_code == 204
    assert_problem(await api.get(path, headers=headers), 404, "not_found")


async def test_deliveries_their_detail_replay_and_retry(
    api: AsyncTestClient[Litestar], clinic: Clinic, other_clinic: Clinic, pool: asyncpg.Pool
) -> None:
    endpoint = await _create(api, clinic.admin)
    path = f"/v1/webhook-endpoints/{endpoint['id']}"
    headers = clinic.admin.headers
    goal_ids = [(await set_goal(api, clinic))["goal_id"] for _ in range(3)]
    async with pool.acquire() as conn:
        for goal_id in goal_ids:
            await fanout.CONSUMER.apply(conn, UUID(goal_id))

    first = await api.get(path + "/deliveries", params={"limit": 2}, headers=headers)
    assert first.status_code == 200, first.text
    rest = await api.get(
        path + "/deliveries", params={"cursor": first.json()["next_cursor"]}, headers=headers
    )
    deliveries = first.json()["deliveries"] + rest.json()["deliveries"]
    assert [item["sequence"] for item in deliveries] == [1, 2, 3]
    assert {item["goal_id"] for item in deliveries} == set(goal_ids)
    assert {item["client_id"] for item in deliveries} == {str(clinic.client.id)}
    assert {item["event_type"] for item in deliveries} == {"goal.set"}
    by_client = await api.get(
        path + "/deliveries", params={"client_id": str(clinic.other_client.id)}, headers=headers
    )
    assert by_client.json()["deliveries"] == []

    metrics = (await api.get("/metrics")).text
    assert "goals_webhook_deliveries_due 3\n" in metrics
    assert "goals_webhook_endpoints_disabled 0\n" in metrics

    detail = await api.get(f"/v1/webhook-deliveries/{deliveries[0]['id']}", headers=headers)
    assert detail.status_code == 200, detail.text
    assert (detail.json()["state"], detail.json()["attempts"]) == ("pending", [])
    assert_problem(
        await api.get(
            f"/v1/webhook-deliveries/{deliveries[0]['id']}", headers=other_clinic.admin.headers
        ),
        404,
        "not_found",
    )

    replayed = await api.post(path + "/replay", json={"since_sequence": 2}, headers=headers)
    assert (replayed.status_code, replayed.json()) == (200, {"deliveries": 2})
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    replayed = await api.post(path + "/replay", json={"since": since}, headers=headers)
    assert replayed.json() == {"deliveries": 3}
    for body in ({}, {"since_sequence": 1, "since": since}):
        refused = await api.post(path + "/replay", json=body, headers=headers)
        assert_problem(refused, 422, "invalid_input")
    retried = await api.post(f"/v1/webhook-deliveries/{deliveries[0]['id']}/retry", headers=headers)
    assert (retried.status_code, retried.json()["state"]) == (200, "pending")

    await api.post(path + "/disable", headers=headers)
    refused = await api.post(path + "/replay", json={"since_sequence": 1}, headers=headers)
    assert_problem(refused, 409, "endpoint_disabled")
    refused = await api.post(f"/v1/webhook-deliveries/{deliveries[0]['id']}/retry", headers=headers)
    assert_problem(refused, 409, "endpoint_disabled")
