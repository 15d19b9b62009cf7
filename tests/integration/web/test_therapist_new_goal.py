"""A therapist sets a goal with a client through the guided form: the one path `POST /v1/goals`
takes, for the care team alone, refusals next to their field, nothing written on a refusal."""

from datetime import UTC, datetime, timedelta

import asyncpg

from services.web.therapist.client import GOAL_SET
from tests.integration.api.support import goal_events, row_counts
from tests.integration.api.world import Clinic
from tests.integration.web.pages import Web, csrf_token, send_form, sign_in

THERAPIST_EMAIL = "north.therapist@example.org"


def _fields(**overrides: str) -> dict[str, str]:
    today = datetime.now(UTC).date()
    fields = {
        "statement": "Call a friend",
        "kind": "count",
        "unit": "calls",
        "cadence": "per_week",
        "target": "2",
        "cue": "",
        "life_area": "relationships",
        "values": "connection",
        "start_date": today.isoformat(),
        "due_date": (today + timedelta(days=30)).isoformat(),
    }
    return fields | overrides


async def _rows(pool: asyncpg.Pool) -> dict[str, int]:
    counts = await row_counts(pool)
    del counts["public.access_log"]  # every goal read leaves one, refusals included
    return counts


async def test_a_goal_set_with_the_client_shows_on_their_page_and_in_the_api(
    web: Web, clinic: Clinic, pool: asyncpg.Pool, projector: None
) -> None:
    await sign_in(web, pool, THERAPIST_EMAIL)
    client_page = f"/caseload/clients/{clinic.client.id}"
    new_goal = f"{client_page}/goals/new"
    assert f'href="{new_goal}"' in (await web.get(client_page)).text
    page = await web.get(new_goal)
    assert page.status_code == 200, page.text
    assert "Set a goal with north client" in page.text
    sent = await send_form(web, new_goal, new_goal, **_fields())
    assert sent.status_code == 303, sent.text
    location = sent.headers["location"]
    assert location.startswith(f"{client_page}?")
    goal_id = location.rpartition("#goal-")[2]
    assert [event["event_type"] for event in await goal_events(pool, goal_id)] == ["goal_set"]
    shown = await web.get(location)
    assert shown.status_code == 200, shown.text
    assert "Call a friend" in shown.text
    assert GOAL_SET in shown.text
    api = await web.get(f"/v1/goals/{goal_id}", headers=clinic.client.headers)
    assert api.status_code == 200, api.text
    body = api.json()
    assert (body["client_id"], body["statement"]) == (str(clinic.client.id), "Call a friend")
    assert body["measure"]["target"] == 2
    record = await pool.fetchrow(
        "SELECT user_id, client_ids FROM access_log"
        " WHERE route = '/caseload/clients/{client_id}/goals/new' ORDER BY id DESC LIMIT 1"
    )
    assert record is not None
    assert (record["user_id"], record["client_ids"]) == (clinic.therapist.id, [clinic.client.id])


async def test_a_refused_goal_is_shown_next_to_its_field_and_writes_nothing(
    web: Web, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    await sign_in(web, pool, THERAPIST_EMAIL)
    new_goal = f"/caseload/clients/{clinic.client.id}/goals/new"
    before = await _rows(pool)
    for fields, field_id, words in (
        ({"target": "lots"}, "error-measure-target", "Please enter a number above zero"),
        ({"target": "-1"}, "error-measure-target", "The target must be a number above zero."),
        ({"statement": "\x00"}, "error-statement", "a character we cannot keep"),
    ):
        refused = await send_form(web, new_goal, new_goal, **_fields(**fields))
        assert refused.status_code == 422, fields
        assert f'id="{field_id}"' in refused.text, (fields, refused.text)
        assert words in refused.text
    assert await _rows(pool) == before


async def test_a_client_outside_the_care_team_is_refused_as_if_unknown(
    web: Web, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    await sign_in(web, pool, THERAPIST_EMAIL)
    theirs = f"/caseload/clients/{clinic.other_client.id}/goals/new"
    assert (await web.get(theirs)).status_code == 404
    token = csrf_token(await web.get("/caseload"))
    before = await _rows(pool)
    for fields in (_fields(), _fields(target="lots")):
        sent = await web.post(theirs, data={"_csrf_token": token, **fields})
        assert sent.status_code == 404, sent.text
    assert await _rows(pool) == before


async def test_a_goal_form_without_its_csrf_token_writes_nothing(
    web: Web, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    await sign_in(web, pool, THERAPIST_EMAIL)
    new_goal = f"/caseload/clients/{clinic.client.id}/goals/new"
    before = await _rows(pool)
    for token in ({}, {"_csrf_token": "forged"}):
        refused = await web.post(new_goal, data={**_fields(), **token})
        assert refused.status_code == 403
        assert "This form had expired" in refused.text
    assert await _rows(pool) == before
