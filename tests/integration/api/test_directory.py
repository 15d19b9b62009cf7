"""A clinic's people as its admins manage them (the directory, details, deactivation) and its
settings; every change is an event in the log, and the history stays."""

import json
from typing import Any
from uuid import UUID

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.integration.api.access_matrix import footprint
from tests.integration.api.support import assert_problem, project_everything, set_goal
from tests.integration.api.world import Clinic

Api = AsyncTestClient[Litestar]

DEFAULT_SETTINGS = {
    "active_goal_limit": 5,
    "default_time_zone": "UTC",
    "max_token_lifetime_days": 90,
}


async def _register(api: Api, clinic: Clinic, role: str, name: str, **extra: str) -> UUID:
    created = await api.post(
        "/v1/users",
        json={
            "role": role,
            "display_name": name,
            "email": f"{name.split(maxsplit=1)[0].lower()}@example.org",
            **extra,
        },
        headers=clinic.admin.headers,
    )
    assert created.status_code == 201, created.text
    return UUID(created.json()["id"])


async def _log(pool: asyncpg.Pool, stream_id: str) -> list[tuple[str, dict[str, Any]]]:
    rows = await pool.fetch(
        "SELECT event_type, data::text AS data FROM events WHERE stream_id = $1 "
        "ORDER BY stream_version",
        stream_id,
    )
    logged = []
    for row in rows:
        data = json.loads(row["data"])
        assert data.pop("type") == row["event_type"]
        logged.append((row["event_type"], data))
    return logged


async def test_admins_page_through_the_directory_by_role_and_by_name_or_email(
    api: Api, clinic: Clinic, other_clinic: Clinic
) -> None:
    for name in ("Zoe Adams", "Yusuf Baker", "Xena Clark"):
        await _register(api, clinic, "client", name)
    users = "/v1/users"

    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"role": "client", "limit": 2}
        page = await api.get(
            users,
            params=params | ({"cursor": cursor} if cursor else {}),
            headers=clinic.admin.headers,
        )
        assert page.status_code == 200, page.text
        assert len(page.json()["users"]) <= 2
        seen += page.json()["users"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    by_email = await api.get(users, params={"search": "YUSUF@"}, headers=clinic.admin.headers)
    by_name = await api.get(users, params={"search": "clar"}, headers=clinic.admin.headers)
    wildcard = await api.get(users, params={"search": "%"}, headers=clinic.admin.headers)
    nul = await api.get(users, params={"search": "a\x00b"}, headers=clinic.admin.headers)
    elsewhere = await api.get(users, params={"search": "Zoe"}, headers=other_clinic.admin.headers)

    names = [user["display_name"] for user in seen]
    assert names == sorted(names)
    assert {"Zoe Adams", "Yusuf Baker", "Xena Clark"} <= set(names)
    assert {user["role"] for user in seen} == {"client"}
    assert [user["display_name"] for user in by_email.json()["users"]] == ["Yusuf Baker"]
    assert [user["display_name"] for user in by_name.json()["users"]] == ["Xena Clark"]
    assert wildcard.json()["users"] == []
    assert_problem(nul, 422, "invalid_input")
    assert elsewhere.json()["users"] == []
    for caller in (clinic.therapist, clinic.client, clinic.auditor):
        assert_problem(await api.get(users, headers=caller.headers), 403, "forbidden")


async def test_the_page_size_cap_is_in_the_openapi_document(api: Api) -> None:
    schema = (await api.get("/schema/openapi.json")).json()

    for path in ("/v1/users", "/v1/users/{user_id}/tokens"):
        (limit,) = [p for p in schema["paths"][path]["get"]["parameters"] if p["name"] == "limit"]
        assert limit["schema"]["maximum"] == 100, limit


async def test_an_admin_changes_a_users_details_as_an_event(
    api: Api, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    user_id = await _register(api, clinic, "client", "Robin Hale")
    path = f"/v1/users/{user_id}"

    changed = await api.patch(
        path,
        json={
            "display_name": "Robin Hale-Ortiz",
            "email": "Robin.Ortiz@Example.org",
            "time_zone": "America/Chicago",
        },
        headers=clinic.admin.headers,
    )
    taken = await api.patch(
        path, json={"email": "robin.ortiz@example.org"}, headers=clinic.admin.headers
    )
    clash = await api.patch(
        f"/v1/users/{clinic.therapist.id}",
        json={"email": "robin.ortiz@example.org"},
        headers=clinic.admin.headers,
    )
    unknown_zone = await api.patch(
        path, json={"time_zone": "Mars/Olympus"}, headers=clinic.admin.headers
    )

    assert changed.status_code == 200, changed.text
    assert changed.json()["email"] == "robin.ortiz@example.org"
    assert (await api.get(path, headers=clinic.admin.headers)).json() == changed.json()
    assert taken.status_code == 200, taken.text
    assert_problem(clash, 409, "email_taken")
    assert_problem(unknown_zone, 422, "unknown_time_zone")
    for nul in ({"display_name": "Ro\x00bin"}, {"email": "ro\x00bin@example.org"}):
        refused = await api.patch(path, json=nul, headers=clinic.admin.headers)
        assert_problem(refused, 422, "invalid_input")
    assert await _log(pool, f"user-{user_id}") == [
        ("user_registered", await _registered(pool, user_id)),
        (
            "user_details_changed",
            {
                "user_id": str(user_id),
                "display_name": "Robin Hale-Ortiz",
                "email": "robin.ortiz@example.org",
                "time_zone": "America/Chicago",
            },
        ),
    ]


async def _registered(pool: asyncpg.Pool, user_id: UUID) -> dict[str, Any]:
    ((event_type, data), *_) = await _log(pool, f"user-{user_id}")
    assert event_type == "user_registered"
    return data


async def test_users_change_their_own_name_and_time_zone_but_not_their_email(
    api: Api, clinic: Clinic
) -> None:
    path = f"/v1/users/{clinic.client.id}"
    renamed = await api.patch(
        path,
        json={"display_name": "Sam R.", "time_zone": "Asia/Tokyo"},
        headers=clinic.client.headers,
    )
    email = await api.patch(path, json={"email": "me@example.org"}, headers=clinic.client.headers)
    other = await api.patch(
        f"/v1/users/{clinic.other_client.id}",
        json={"display_name": "Nope"},
        headers=clinic.client.headers,
    )

    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["time_zone"] == "Asia/Tokyo"
    assert_problem(email, 403, "forbidden")
    assert_problem(other, 404, "not_found")


async def test_a_deactivated_therapist_loses_access_and_care_teams_but_keeps_their_history(
    api: Api, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    therapist = clinic.therapist
    goal = await set_goal(api, clinic)
    phone = await api.post(f"/v1/users/{therapist.id}/tokens", json={}, headers=therapist.headers)
    assert phone.status_code == 201, phone.text
    second_client = await _register(api, clinic, "client", "Quinn Lee")
    care_team = f"/v1/clients/{second_client}/therapists/{therapist.id}"
    assert (await api.put(care_team, headers=clinic.admin.headers)).status_code == 200

    deactivated = await api.post(
        f"/v1/users/{therapist.id}/deactivation", headers=clinic.admin.headers
    )

    assert deactivated.status_code == 200, deactivated.text
    assert deactivated.json()["deactivated_at"] is not None
    for secret in (therapist.token, phone.json()["token"]):
        refused = await api.get("/v1/me/goals", headers={"Authorization": f"Bearer {secret}"})
        assert_problem(refused, 401, "not_authenticated")
    for client_id in (clinic.client.id, second_client):
        left = await _log(pool, f"care-team-{client_id}")
        assert left[-1] == (
            "therapist_unassigned",
            {"client_id": str(client_id), "therapist_id": str(therapist.id)},
        )
    assert_problem(await api.put(care_team, headers=clinic.admin.headers), 422, "user_deactivated")
    # The history stays: the goal they set, and who set it.
    history = await api.get(f"/v1/goals/{goal['goal_id']}/history", headers=clinic.client.headers)
    assert history.status_code == 200, history.text
    assert str(therapist.id) in history.text
    profile = await api.get(f"/v1/users/{therapist.id}", headers=clinic.admin.headers)
    assert profile.json()["deactivated_at"] == deactivated.json()["deactivated_at"]
    listed = await api.get("/v1/users", params={"active": "false"}, headers=clinic.admin.headers)
    assert [user["id"] for user in listed.json()["users"]] == [str(therapist.id)]
    events = [event for event, _ in await _log(pool, f"user-{therapist.id}")]
    assert events[-3:] == ["user_deactivated", "token_revoked", "token_revoked"]
    await project_everything(pool)
    again = await api.post(f"/v1/users/{therapist.id}/deactivation", headers=clinic.admin.headers)
    assert again.status_code == 200, again.text


async def test_the_last_active_admin_is_not_deactivated(
    api: Api, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    before = await footprint(pool)

    refused = await api.post(
        f"/v1/users/{clinic.admin.id}/deactivation", headers=clinic.admin.headers
    )

    assert_problem(refused, 409, "last_admin")
    assert await footprint(pool) == before
    for caller in (clinic.therapist, clinic.client):
        not_admin = await api.post(
            f"/v1/users/{clinic.other_client.id}/deactivation", headers=caller.headers
        )
        assert_problem(not_admin, 403, "forbidden")


async def test_an_admin_reads_and_changes_the_clinics_settings(
    api: Api, clinic: Clinic, other_clinic: Clinic, pool: asyncpg.Pool
) -> None:
    settings = "/v1/clinic/settings"
    assert (await api.get(settings, headers=clinic.admin.headers)).json() == DEFAULT_SETTINGS
    chosen = {
        "active_goal_limit": 2,
        "default_time_zone": "Europe/Paris",
        "max_token_lifetime_days": 30,
    }

    changed = await api.put(settings, json=chosen, headers=clinic.admin.headers)

    assert changed.status_code == 200, changed.text
    assert (await api.get(settings, headers=clinic.admin.headers)).json() == chosen
    assert (await api.get(settings, headers=other_clinic.admin.headers)).json() == (
        DEFAULT_SETTINGS
    )
    new_user = await _register(api, clinic, "client", "Pat Doe")
    profile = await api.get(f"/v1/users/{new_user}", headers=clinic.admin.headers)
    assert profile.json()["time_zone"] == "Europe/Paris"
    clinic_id = profile.json()["clinic_id"]
    (*_, (event_type, data)) = await _log(pool, f"clinic-{clinic_id}")
    assert event_type == "clinic_settings_changed"
    assert data == {"clinic_id": clinic_id, **chosen}
    for bad in (
        {**chosen, "default_time_zone": "Nowhere/Else"},
        {**chosen, "active_goal_limit": 0},
        {**chosen, "max_token_lifetime_days": 366},
        {"active_goal_limit": 3},
    ):
        refused = await api.put(settings, json=bad, headers=clinic.admin.headers)
        assert refused.status_code == 422, refused.text
    for caller in (clinic.therapist, clinic.client, clinic.auditor):
        assert_problem(await api.get(settings, headers=caller.headers), 403, "forbidden")
        refused = await api.put(settings, json=chosen, headers=caller.headers)
        assert_problem(refused, 403, "forbidden")


async def test_the_active_goal_limit_is_the_clinics(api: Api, clinic: Clinic) -> None:
    changed = await api.put(
        "/v1/clinic/settings",
        json={**DEFAULT_SETTINGS, "active_goal_limit": 2},
        headers=clinic.admin.headers,
    )
    assert changed.status_code == 200, changed.text

    replies = [await set_goal(api, clinic, statement=f"Goal {n}") for n in range(3)]

    assert [reply["warnings"] for reply in replies[:2]] == [[], []]
    assert [warning["code"] for warning in replies[2]["warnings"]] == ["many_active_goals"]
