"""Nudges over HTTP: preferences, the inbox, encouragement and the one-click unsubscribe."""

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from litestar.testing import AsyncTestClient

from infra.nudges.scanner import scan
from infra.nudges.unsubscribe import unsubscribe_token
from tests.integration.api.world import TOKEN_KEY, Clinic, Person, goal_body

PREFERENCES = "/v1/me/notification-preferences"


async def _shared_goal(api: AsyncTestClient, clinic: Clinic) -> str:
    created = await api.post("/v1/goals", json=goal_body(), headers=clinic.client.headers)
    assert created.status_code == 201, created.text
    goal_id: str = created.json()["goal_id"]
    shared = await api.post(
        f"/v1/goals/{goal_id}/supporters/{clinic.supporter.id}", headers=clinic.client.headers
    )
    assert shared.status_code == 200, shared.text
    return goal_id


async def _deliver(pool: asyncpg.Pool, at: datetime) -> None:
    async with pool.acquire() as conn:
        assert await scan(conn, at, due_soon_days=3, email=None) is not None


def _awake(person_zone_noon: int = 12) -> datetime:
    """Noon in Berlin, where the world's people live, tomorrow: out of their quiet hours."""
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    return datetime(tomorrow.year, tomorrow.month, tomorrow.day, person_zone_noon - 1, tzinfo=UTC)


async def _encourage(api: AsyncTestClient, goal_id: str, by: Person, message: str) -> Any:
    return await api.post(
        f"/v1/goals/{goal_id}/encouragements", json={"message": message}, headers=by.headers
    )


async def test_preferences_have_defaults_and_are_kept_whole(
    api: AsyncTestClient, clinic: Clinic
) -> None:
    headers = clinic.client.headers
    defaults = await api.get(PREFERENCES, headers=headers)
    assert defaults.status_code == 200
    assert defaults.json() == {
        "time_zone": "Europe/Berlin",
        "quiet_hours": {"start": "21:00", "end": "08:00"},
        "daily_cap": 3,
        "reminder_time": "09:00",
        "channels": {"in_app": True, "email": True},
        "muted_goals": [],
    }
    goal_id = await _shared_goal(api, clinic)
    wanted = {
        "time_zone": "America/Chicago",
        "quiet_hours": {"start": "22:30", "end": "07:15"},
        "daily_cap": 5,
        "reminder_time": "18:00",
        "channels": {"in_app": True, "email": False},
        "muted_goals": [goal_id],
    }
    put = await api.put(PREFERENCES, json=wanted, headers=headers)
    assert put.status_code == 200, put.text
    assert put.json() == wanted
    assert (await api.get(PREFERENCES, headers=headers)).json() == wanted
    me = await api.get(f"/v1/users/{clinic.client.id}", headers=headers)
    assert me.json()["time_zone"] == "America/Chicago"
    # A field left out takes its default again.
    reset = await api.put(PREFERENCES, json={}, headers=headers)
    assert reset.json() == {**defaults.json(), "time_zone": "America/Chicago"}


async def test_bad_preferences_are_refused_with_the_field_and_nothing_changes(
    api: AsyncTestClient, clinic: Clinic
) -> None:
    headers = clinic.client.headers
    before = (await api.get(PREFERENCES, headers=headers)).json()
    for body, field in (
        ({"daily_cap": 0}, "daily_cap"),
        ({"quiet_hours": {"start": "25:00"}}, "quiet_hours.start"),
        ({"reminder_time": "9am"}, "reminder_time"),
        ({"muted_goals": ["not a goal"]}, "muted_goals[0]"),
        ({"channels": {"sms": True}}, "channels.sms"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
    ):
        refused = await api.put(PREFERENCES, json=body, headers=headers)
        assert refused.status_code == 422, (body, refused.text)
        assert refused.json()["errors"][0]["field"] == field, refused.text
    assert (await api.get(PREFERENCES, headers=headers)).json() == before


async def test_a_supporters_encouragement_reaches_the_clients_inbox(
    api: AsyncTestClient, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    goal_id = await _shared_goal(api, clinic)
    sent = await _encourage(api, goal_id, clinic.supporter, "You can do this!")
    assert sent.status_code == 201, sent.text
    assert sent.json()["status"] == "pending"
    nudge_id = sent.json()["nudge_id"]

    await _deliver(pool, _awake())

    inbox = await api.get("/v1/me/nudges", headers=clinic.client.headers)
    assert inbox.status_code == 200
    (nudge,) = inbox.json()["items"]
    assert nudge["id"] == nudge_id
    assert nudge["kind"] == "encouragement"
    assert nudge["message"].endswith("You can do this!")
    assert nudge["read_at"] is None
    read = await api.post(f"/v1/me/nudges/{nudge_id}/read", headers=clinic.client.headers)
    assert read.status_code == 200, read.text
    first_read = read.json()["read_at"]
    again = await api.post(f"/v1/me/nudges/{nudge_id}/read", headers=clinic.client.headers)
    assert again.json()["read_at"] == first_read
    # Nobody else's inbox has it, nor may mark it.
    for other in (clinic.other_client, clinic.supporter, clinic.therapist):
        assert (await api.get("/v1/me/nudges", headers=other.headers)).json()["items"] == []
        marked = await api.post(f"/v1/me/nudges/{nudge_id}/read", headers=other.headers)
        assert marked.status_code == 404


async def test_only_a_supporter_the_goal_is_shared_with_may_encourage(
    api: AsyncTestClient, clinic: Clinic, other_clinic: Clinic, pool: asyncpg.Pool
) -> None:
    goal_id = await _shared_goal(api, clinic)
    for person, status in (
        (clinic.client, 403),
        (clinic.therapist, 403),
        (clinic.auditor, 403),
        (clinic.other_client, 404),
        (other_clinic.supporter, 404),
    ):
        refused = await _encourage(api, goal_id, person, "Go!")
        assert refused.status_code == status, (person.role, refused.text)
    blank = await _encourage(api, goal_id, clinic.supporter, "   ")
    assert blank.status_code == 422
    assert blank.json()["errors"][0]["field"] == "message"
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM nudges") == 0


async def test_the_inbox_pages_newest_first(
    api: AsyncTestClient, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    goal_id = await _shared_goal(api, clinic)
    await api.put(PREFERENCES, json={"daily_cap": 20}, headers=clinic.client.headers)
    moment = _awake()
    for index in range(5):
        sent = await _encourage(api, goal_id, clinic.supporter, f"Message {index}")
        assert sent.status_code == 201
        await _deliver(pool, moment + timedelta(minutes=index))
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await api.get("/v1/me/nudges", params=params, headers=clinic.client.headers)).json()
        seen += [item["message"][-9:] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"Message {index}" for index in reversed(range(5))]


async def test_one_click_unsubscribe_turns_off_email_for_that_person_alone(
    api: AsyncTestClient, clinic: Clinic
) -> None:
    link = f"/v1/unsubscribe/{unsubscribe_token(clinic.client.id, TOKEN_KEY)}"
    page = await api.get(link)
    assert page.status_code == 200
    assert 'method="post"' in page.text
    clicked = await api.post(
        link,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert clicked.status_code == 200, clicked.text
    mine = (await api.get(PREFERENCES, headers=clinic.client.headers)).json()
    assert mine["channels"] == {"in_app": True, "email": False}
    others = (await api.get(PREFERENCES, headers=clinic.other_client.headers)).json()
    assert others["channels"]["email"] is True
    # Another key's token, or a tampered one, is not ours.
    for token in (
        unsubscribe_token(clinic.other_client.id, "another key"),
        link.rsplit("/", 1)[1][:-2] + "AA",
        "nonsense",
    ):
        refused = await api.post(f"/v1/unsubscribe/{token}")
        assert refused.status_code == 404, token
    assert (await api.get(PREFERENCES, headers=clinic.other_client.headers)).json() == others
