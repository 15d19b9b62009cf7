"""The audit trail's reads: the auditor's access log and administrative actions, and a client's
account of who was shown their goals. No one else reads them."""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.integration.api.support import assert_problem, project_everything, set_goal
from tests.integration.api.world import Clinic, goal_body


async def _goal_of_other_client(api: AsyncTestClient[Litestar], clinic: Clinic) -> str:
    """A goal of the other client, set by the therapist, who is made theirs too."""
    assigned = await api.put(
        f"/v1/clients/{clinic.other_client.id}/therapists/{clinic.therapist.id}",
        headers=clinic.admin.headers,
    )
    assert assigned.status_code == 200, assigned.text
    created = await api.post(
        "/v1/goals",
        json=goal_body(client_id=str(clinic.other_client.id)),
        headers=clinic.therapist.headers,
    )
    assert created.status_code == 201, created.text
    goal_id: str = created.json()["goal_id"]
    return goal_id


AUDIT_ENDPOINTS = ["/v1/audit/access-log", "/v1/audit/admin-actions", "/v1/me/access-log"]
ROLES = ["admin", "therapist", "client", "supporter", "auditor", "integration"]


def _may_read(role: str, endpoint: str) -> bool:
    return role == ("client" if endpoint == "/v1/me/access-log" else "auditor")


@pytest.mark.parametrize("endpoint", AUDIT_ENDPOINTS)
async def test_only_the_auditor_and_the_client_for_their_own_read_the_audit_trail(
    api: AsyncTestClient[Litestar], clinic: Clinic, endpoint: str
) -> None:
    for role in ROLES:
        person = getattr(clinic, role)
        answer = await api.get(endpoint, headers=person.headers)
        expected = 200 if _may_read(role, endpoint) else 403
        assert answer.status_code == expected, (role, answer.text)
    assert_problem(await api.get(endpoint), 401, "not_authenticated")


async def _pages(
    api: AsyncTestClient[Litestar], url: str, headers: dict[str, str], **params: Any
) -> list[dict[str, Any]]:
    """Every item of a list, walked a page of 2 at a time."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, "limit": 2} | ({"cursor": cursor} if cursor else {})
        answer = await api.get(url, params=query, headers=headers)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        (key,) = {"records", "actions", "disclosures"} & set(page)
        assert len(page[key]) <= 2
        items += page[key]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


async def test_the_auditor_filters_by_client_user_and_time_a_page_at_a_time(
    api: AsyncTestClient[Litestar], clinic: Clinic, other_clinic: Clinic
) -> None:
    goal = (await set_goal(api, clinic))["goal_id"]
    started = datetime.now(UTC)
    for reader in (clinic.client, clinic.therapist, clinic.therapist):
        await api.get(f"/v1/goals/{goal}", headers=reader.headers)
    await api.get(f"/v1/clients/{clinic.other_client.id}/goals", headers=clinic.therapist.headers)
    await api.get("/v1/me/goals", headers=other_clinic.client.headers)
    url, auditor = "/v1/audit/access-log", clinic.auditor.headers

    everything = await _pages(api, url, auditor)
    of_client = await _pages(api, url, auditor, client_id=str(clinic.client.id))
    by_therapist = await _pages(api, url, auditor, user_id=str(clinic.therapist.id))
    later = await _pages(api, url, auditor, since=(started + timedelta(hours=1)).isoformat())

    assert [record["status"] for record in everything] == [404, 200, 200, 200]
    assert [record["id"] for record in everything] == sorted(
        {record["id"] for record in everything}, reverse=True
    )
    assert {record["correlation_id"] for record in of_client} == {
        record["correlation_id"] for record in everything[1:]
    }
    assert [record["user_id"] for record in by_therapist] == [str(clinic.therapist.id)] * 3
    assert by_therapist[0]["display_name"] == "north therapist"
    assert later == []
    south = await _pages(api, url, other_clinic.auditor.headers)
    assert [record["user_id"] for record in south] == [str(other_clinic.client.id)]
    assert (
        await _pages(api, url, other_clinic.auditor.headers, client_id=str(clinic.client.id)) == []
    )


async def test_a_client_sees_who_was_shown_their_goals_supporters_too(
    api: AsyncTestClient[Litestar], clinic: Clinic, pool: asyncpg.Pool
) -> None:
    goal = (await set_goal(api, clinic))["goal_id"]
    await _goal_of_other_client(api, clinic)
    shared = await api.post(
        f"/v1/goals/{goal}/supporters/{clinic.supporter.id}", headers=clinic.client.headers
    )
    assert shared.status_code == 200, shared.text
    await project_everything(pool)
    await api.get(f"/v1/goals/{goal}", headers=clinic.supporter.headers)
    await api.get("/v1/me/goals", headers=clinic.supporter.headers)
    await api.get(f"/v1/goals/{goal}", headers=clinic.other_therapist.headers)  # refused: 404
    await api.get(f"/fhir/r4/Goal/{goal}", headers=clinic.integration.headers)

    account = await _pages(api, "/v1/me/access-log", clinic.client.headers)
    others = await _pages(api, "/v1/me/access-log", clinic.other_client.headers)

    assert [(record["role"], record["route"]) for record in account] == [
        ("integration", "/fhir/r4/Goal/{goal_id}"),
        ("supporter", "/v1/me/goals"),
        ("supporter", "/v1/goals/{goal_id}"),
    ]
    assert all(record["goal_ids"] == [goal] for record in account)
    assert {record["kind"] for record in account} == {"read"}
    assert account[1]["display_name"] == "north supporter"
    assert others == []


async def test_a_caseload_read_shows_a_client_only_their_own_goals(
    api: AsyncTestClient[Litestar], clinic: Clinic, pool: asyncpg.Pool
) -> None:
    mine = (await set_goal(api, clinic))["goal_id"]
    theirs = await _goal_of_other_client(api, clinic)
    await project_everything(pool)
    admin_view = await api.get("/v1/clinic/stats", headers=clinic.admin.headers)
    assert admin_view.status_code == 200
    await api.get("/v1/me/goals", headers=clinic.therapist.headers)

    (record,) = await _pages(api, "/v1/me/access-log", clinic.client.headers)
    (audited,) = await _pages(
        api, "/v1/audit/access-log", clinic.auditor.headers, user_id=str(clinic.therapist.id)
    )

    assert record["goal_ids"] == [mine]
    assert set(audited["goal_ids"]) == {mine, theirs}
    assert set(audited["client_ids"]) == {str(clinic.client.id), str(clinic.other_client.id)}


async def test_a_client_sees_the_webhook_deliveries_of_their_goals(
    api: AsyncTestClient[Litestar], clinic: Clinic, admin_conn: asyncpg.Connection
) -> None:
    goal = (await set_goal(api, clinic))["goal_id"]
    clinic_id = await admin_conn.fetchval(
        "SELECT clinic_id FROM users WHERE id = $1", clinic.client.id
    )
    endpoint = uuid4()
    await admin_conn.execute(
        "INSERT INTO webhook_endpoints (id, clinic_id, url, event_types, format, secret) "
        "VALUES ($1, $2, 'https://receiver.example/hook', '{}', 'full', 'whsec_x')",
        endpoint,
        clinic_id,
    )
    for sequence, (client, state) in enumerate(
        [
            (clinic.client.id, "delivered"),
            (clinic.client.id, "pending"),
            (clinic.other_client.id, "delivered"),
        ],
        start=1,
    ):
        await admin_conn.execute(
            "INSERT INTO webhook_deliveries (id, endpoint_id, clinic_id, sequence, event_id, "
            "event_type, goal_id, client_id, position, state, delivered_at, last_status) "
            "VALUES ($1, $2, $3, $4, $5, 'goal_set', $6, $7, 1, $8, "
            "CASE WHEN $8 = 'delivered' THEN now() END, 200)",
            uuid4(),
            endpoint,
            clinic_id,
            sequence,
            uuid4(),
            UUID(goal),
            client,
            state,
        )
    await api.get(f"/v1/goals/{goal}", headers=clinic.therapist.headers)

    account = await _pages(api, "/v1/me/access-log", clinic.client.headers)

    assert [record["kind"] for record in account] == ["read", "webhook_delivery"]
    delivery = account[1]
    assert delivery["recipient"] == "https://receiver.example/hook"
    assert (delivery["goal_ids"], delivery["event_type"]) == ([goal], "goal_set")
    assert delivery["user_id"] is None


async def test_the_auditor_lists_the_clinics_administrative_actions(
    api: AsyncTestClient[Litestar], clinic: Clinic, other_clinic: Clinic
) -> None:
    revoked = await api.delete(
        f"/v1/users/{clinic.supporter.id}/tokens", headers=clinic.admin.headers
    )
    assert revoked.status_code == 200, revoked.text
    since = datetime.now(UTC) - timedelta(minutes=5)

    actions = await _pages(
        api, "/v1/audit/admin-actions", clinic.auditor.headers, since=since.isoformat()
    )

    types = {action["type"] for action in actions}
    assert {
        "clinic_created",
        "user_registered",
        "invitation_created",
        "invitation_redeemed",
        "token_issued",
        "therapist_assigned",
        "token_revoked",
    } <= types
    revocation = next(action for action in actions if action["type"] == "token_revoked")
    assert revocation["actor_id"] == str(clinic.admin.id)
    assert revocation["token_id"] is not None
    assert revocation["data"]["user_id"] == str(clinic.supporter.id)
    registered = {
        UUID(action["data"]["user_id"]) for action in actions if action["type"] == "user_registered"
    }
    assert clinic.client.id in registered
    assert other_clinic.client.id not in registered
    positions = [action["position"] for action in actions]
    assert positions == sorted(set(positions), reverse=True)
