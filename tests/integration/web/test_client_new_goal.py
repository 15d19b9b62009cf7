"""Set a goal through the guided form: the same path and rules as `POST /v1/goals`, refusals
next to their field, the overload warning shown gently, and "try again" after a miss."""

from datetime import UTC, datetime, timedelta

import asyncpg

from services.web.client_goal import GOAL_SET, GOAL_SET_AMONG_MANY
from services.web.client_new_goal import START_SMALL
from tests.integration.api.support import event_count, goal_events, project_everything, set_goal
from tests.integration.api.world import Clinic
from tests.integration.web.pages import Web, send_form, sign_in

CLIENT_EMAIL = "north.client@example.org"


def _fields(**overrides: str) -> dict[str, str]:
    today = datetime.now(UTC).date()
    fields = {
        "statement": "Read before bed",
        "kind": "count",
        "unit": "evenings",
        "cadence": "per_week",
        "target": "4",
        "cue": "When I turn off the television, I will read",
        "life_area": "mental_health",
        "values": "calm, curiosity",
        "start_date": today.isoformat(),
        "due_date": (today + timedelta(days=30)).isoformat(),
    }
    return fields | overrides


async def test_the_guided_form_sets_the_clients_goal(
    web: Web, clinic: Clinic, pool: asyncpg.Pool, projector: None
) -> None:
    await sign_in(web, pool, CLIENT_EMAIL)
    page = await web.get("/my/goals/new")
    for question in (
        "What exactly",
        "How will you measure it",
        "Is it realistic",
        "Why does it matter",
        "By when",
    ):
        assert question in page.text
    assert START_SMALL in page.text  # no pace to go by yet
    sent = await send_form(web, "/my/goals/new", "/my/goals/new", **_fields())
    assert sent.status_code == 303, sent.text
    goal_id = sent.headers["location"].split("/")[3].split("?")[0]
    assert [event["event_type"] for event in await goal_events(pool, goal_id)] == ["goal_set"]
    shown = await web.get(sent.headers["location"])
    assert GOAL_SET in shown.text
    assert "Read before bed" in shown.text
    api = await web.get(f"/v1/goals/{goal_id}", headers=clinic.client.headers)
    body = api.json()
    assert (body["client_id"], body["values"]) == (str(clinic.client.id), ["calm", "curiosity"])
    assert body["measure"] == {
        "kind": "count",
        "target": 4,
        "unit": "evenings",
        "cadence": "per_week",
    }


async def test_refusals_are_shown_next_to_their_field_and_nothing_is_written(
    web: Web, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    await sign_in(web, pool, CLIENT_EMAIL)
    before = await event_count(pool)
    today = datetime.now(UTC).date()
    for fields, field_id, words in (
        ({"target": "lots"}, "error-measure-target", "Please enter a number above zero"),
        ({"target": "-1"}, "error-measure-target", "The target must be a number above zero."),
        ({"statement": " "}, "error-statement", "Describe the goal in 3 to 200 characters."),
        (
            {"due_date": (today - timedelta(days=3)).isoformat()},
            "error-due_date",
            "The due date must come after the start date.",
        ),
    ):
        refused = await send_form(web, "/my/goals/new", "/my/goals/new", **_fields(**fields))
        assert refused.status_code == 422, fields
        assert f'id="{field_id}"' in refused.text, (fields, refused.text)
        assert words in refused.text
        assert 'aria-invalid="true"' in refused.text
    assert await event_count(pool) == before


async def test_the_overload_warning_is_a_gentle_thought(
    web: Web, clinic: Clinic, pool: asyncpg.Pool, projector: None
) -> None:
    limit = await pool.fetchval("SELECT active_goal_limit FROM clinics WHERE name = 'north'")
    for _ in range(limit):
        await set_goal(web, clinic)
    await project_everything(pool)
    await sign_in(web, pool, CLIENT_EMAIL)
    page = await web.get("/my/goals/new")
    assert "A gentle thought" in page.text
    assert f"There are already {limit} active goals" in page.text
    sent = await send_form(web, "/my/goals/new", "/my/goals/new", **_fields())
    assert sent.status_code == 303
    assert GOAL_SET_AMONG_MANY in (await web.get(sent.headers["location"])).text


async def test_try_again_starts_from_the_missed_goal_and_replaces_it(
    web: Web, clinic: Clinic, pool: asyncpg.Pool, projector: None
) -> None:
    missed = str((await set_goal(web, clinic))["goal_id"])
    await web.post(f"/v1/goals/{missed}/check-ins", headers=clinic.client.headers)
    closed = await web.post(
        f"/v1/goals/{missed}/miss", json={"cause": "unrealistic"}, headers=clinic.client.headers
    )
    assert closed.status_code == 200
    await project_everything(pool)
    await sign_in(web, pool, CLIENT_EMAIL)
    page = await web.get(f"/my/goals/new?replaces={missed}")
    assert "Try again" in page.text
    assert 'value="Walk for 30 minutes"' in page.text
    assert "Last time you did" in page.text
    record = await pool.fetchrow(
        "SELECT user_id, goal_ids, status FROM access_log"
        " WHERE route = '/my/goals/new' ORDER BY id DESC LIMIT 1"
    )
    assert record is not None
    assert (record["user_id"], record["status"]) == (clinic.client.id, 200)
    assert missed in [str(goal) for goal in record["goal_ids"]]
    sent = await send_form(
        web,
        f"/my/goals/new?replaces={missed}",
        f"/my/goals/new?replaces={missed}",
        **_fields(statement="Walk for 15 minutes", target="2"),
    )
    assert sent.status_code == 303, sent.text
    goal_id = sent.headers["location"].split("/")[3].split("?")[0]
    api = await web.get(f"/v1/goals/{goal_id}", headers=clinic.client.headers)
    assert api.json()["replaces"] == missed
