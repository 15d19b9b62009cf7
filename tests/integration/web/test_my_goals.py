"""My goals and its check-in: the same command path, rules and access as the API, plus what
every page and form must carry."""

import json

import asyncpg

from services.web.my_goals import CHECKED_IN
from services.web.security import CSP
from tests.integration.api.support import event_count, goal_events, project_everything, set_goal
from tests.integration.api.world import Clinic
from tests.integration.web.pages import Web, csrf_token, send_form, sign_in

CLIENT_EMAIL = "north.client@example.org"


async def _signed_in_with_goal(web: Web, clinic: Clinic, pool: asyncpg.Pool) -> str:
    goal = await set_goal(web, clinic)
    await project_everything(pool)
    await sign_in(web, pool, CLIENT_EMAIL)
    return str(goal["goal_id"])


async def test_a_check_in_without_javascript_posts_and_redirects_back(
    web: Web, clinic: Clinic, pool: asyncpg.Pool, projector: None
) -> None:
    goal_id = await _signed_in_with_goal(web, clinic, pool)
    page = await web.get("/my/goals")
    assert "0 of 3 walks" in page.text
    sent = await web.post(
        f"/my/goals/{goal_id}/check-ins", data={"_csrf_token": csrf_token(page), "amount": "2"}
    )
    assert sent.status_code == 303
    events = await goal_events(pool, goal_id)
    assert sent.headers["location"] == (
        f"/my/goals?checked_in={goal_id}&after={events[-1]['position']}#goal-{goal_id}"
    )
    assert events[-1]["event_type"] == "progress_recorded"
    assert json.loads(events[-1]["metadata"])["actor_id"] == str(clinic.client.id)
    back = await web.get(sent.headers["location"])
    assert "2 of 3 walks" in back.text
    assert CHECKED_IN in back.text


async def test_with_htmx_the_answer_is_the_goals_card_alone(
    web: Web, clinic: Clinic, pool: asyncpg.Pool, projector: None
) -> None:
    goal_id = await _signed_in_with_goal(web, clinic, pool)
    page = await web.get("/my/goals")
    sent = await web.post(
        f"/my/goals/{goal_id}/check-ins",
        data={"_csrf_token": csrf_token(page), "amount": "1"},
        headers={"HX-Request": "true"},
    )
    assert sent.status_code == 200
    assert sent.text.lstrip().startswith("<article")  # the card, no page around it
    assert f'id="goal-{goal_id}"' in sent.text
    assert "1 of 3 walks" in sent.text
    assert CHECKED_IN in sent.text


async def test_the_goal_rules_words_show_next_to_the_form(
    web: Web, clinic: Clinic, pool: asyncpg.Pool, projector: None
) -> None:
    goal_id = await _signed_in_with_goal(web, clinic, pool)
    before = await event_count(pool)
    for headers in ({}, {"HX-Request": "true"}):
        page = await web.get("/my/goals")
        sent = await web.post(
            f"/my/goals/{goal_id}/check-ins",
            data={"_csrf_token": csrf_token(page), "amount": "1.5"},
            headers=headers,
        )
        assert sent.status_code == 422
        assert "A count check-in is a whole number." in sent.text
        assert 'class="form-error"' in sent.text
    assert await event_count(pool) == before


async def test_another_clients_goal_is_refused_as_if_it_did_not_exist(
    web: Web, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    theirs = await set_goal(web, clinic)  # the client's: the other client signs in below
    await project_everything(pool)
    await sign_in(web, pool, "north.other_client@example.org")
    before = await event_count(pool)
    page = await web.get("/my/goals")
    assert theirs["goal"]["statement"] not in page.text
    sent = await web.post(
        f"/my/goals/{theirs['goal_id']}/check-ins", data={"_csrf_token": csrf_token(page)}
    )
    assert sent.status_code == 404
    assert "We could not find that page" in sent.text
    assert await event_count(pool) == before


async def test_a_form_without_its_csrf_token_changes_nothing(
    web: Web, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    goal_id = await _signed_in_with_goal(web, clinic, pool)
    before = await event_count(pool)
    for fields in ({}, {"_csrf_token": "forged"}):
        refused = await web.post(f"/my/goals/{goal_id}/check-ins", data={"amount": "1", **fields})
        assert refused.status_code == 403
        assert "This form had expired" in refused.text
        signed_out = await web.post("/sign-out", data=fields)
        assert signed_out.status_code == 403
    assert await event_count(pool) == before
    assert (await web.get("/my/goals")).status_code == 200
    # The JSON API's bearer-token clients send no CSRF token, and need none.
    api = await web.post(f"/v1/goals/{goal_id}/check-ins", headers=clinic.client.headers)
    assert api.status_code == 200, api.text


async def test_every_page_and_asset_carries_the_content_security_policy(
    web: Web, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    await sign_in(web, pool, CLIENT_EMAIL)
    for path in ("/sign-in", "/my/goals", "/static/htmx.min.js", "/static/site.css", "/nowhere"):
        answer = await web.get(path)
        assert answer.headers["content-security-policy"] == CSP, path
        assert answer.headers["referrer-policy"] == "no-referrer"
    assert "'unsafe-inline'" not in CSP
    assert "default-src 'self'" in CSP
    api = await web.get("/v1/me/goals", headers=clinic.client.headers)
    assert "content-security-policy" not in api.headers


async def test_reading_my_goals_is_access_logged_like_the_api(
    web: Web, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    goal_id = await _signed_in_with_goal(web, clinic, pool)
    await web.get("/my/goals")
    record = await pool.fetchrow(
        "SELECT user_id, role, client_ids, goal_ids, status FROM access_log"
        " WHERE route = '/my/goals' ORDER BY id DESC LIMIT 1"
    )
    assert record is not None
    assert record["user_id"] == clinic.client.id
    assert record["role"] == "client"
    assert record["client_ids"] == [clinic.client.id]
    assert [str(goal) for goal in record["goal_ids"]] == [goal_id]
    assert record["status"] == 200


async def test_signed_out_pages_lead_to_sign_in(web: Web, clinic: Clinic) -> None:
    page = await web.get("/my/goals")
    assert (page.status_code, page.headers["location"]) == (303, "/sign-in")
    partial = await web.get("/my/goals", headers={"HX-Request": "true"})
    assert partial.headers["hx-redirect"] == "/sign-in"
    asked = await send_form(web, "/sign-in", "/sign-in", email="not an address")
    assert asked.status_code == 422
    assert "Please enter an e-mail address" in asked.text
