"""A client's goal page: the chart and its table, check-ins, the timeline with an adjustment's
before and after, "not this time" with the reflection, and sharing with a partner; each write
through the goal writer, each refusal shown next to its form, nothing of another client's."""

import json

import asyncpg

from services.api.goals.routes import MAX_HISTORY_PAGE
from services.web.client_chart import HEIGHT, WIDTH
from services.web.client_goal import CHOOSE_A_CAUSE, NO_PARTNER, REFLECTED, SHARED
from tests.integration.api.support import event_count, goal_events, project_everything, set_goal
from tests.integration.api.world import Clinic
from tests.integration.web.pages import Web, csrf_token, send_form, sign_in

CLIENT_EMAIL = "north.client@example.org"
SUPPORTER_EMAIL = "north.supporter@example.org"


async def _signed_in_with_goal(web: Web, clinic: Clinic, pool: asyncpg.Pool) -> str:
    goal = await set_goal(web, clinic)
    await project_everything(pool)
    await sign_in(web, pool, CLIENT_EMAIL)
    return str(goal["goal_id"])


async def test_the_goal_page_draws_progress_and_tells_the_history(
    web: Web, clinic: Clinic, pool: asyncpg.Pool, projector: None
) -> None:
    goal_id = await _signed_in_with_goal(web, clinic, pool)
    adjusted = await web.post(
        f"/v1/goals/{goal_id}/adjustments",
        json={
            "changes": {
                "measure": {"kind": "count", "target": 2, "unit": "walks", "cadence": "per_week"}
            },
            "reason": "Three felt like too many for now",
        },
        headers=clinic.therapist.headers,
    )
    assert adjusted.status_code == 200, adjusted.text
    listed = await web.get("/my/goals")
    assert f'<a href="/my/goals/{goal_id}">Walk for 30 minutes</a>' in listed.text
    page = await web.get(f"/my/goals/{goal_id}")
    assert page.status_code == 200
    sent = await web.post(
        f"/my/goals/{goal_id}/check-ins",
        data={"_csrf_token": csrf_token(page), "amount": "2", "back_to": "goal"},
    )
    assert sent.status_code == 303
    assert sent.headers["location"].startswith(f"/my/goals/{goal_id}?note=checked_in&after=")
    after = await web.get(sent.headers["location"])
    assert "Checked in. Well done!" in after.text
    assert f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img"' in after.text
    assert "2 of 2 walks" in after.text  # the chart's words and the table
    assert "<td>2 walks</td><td>2 walks</td><td>Yes</td>" in after.text
    # The timeline: the adjustment's before, after and reason.
    assert "<td>3 walks a week</td><td>2 walks a week</td>" in after.text
    assert "Why: Three felt like too many for now" in after.text
    record = await pool.fetchrow(
        "SELECT user_id, goal_ids, status FROM access_log"
        " WHERE route = '/my/goals/{goal_id}' ORDER BY id DESC LIMIT 1"
    )
    assert record is not None
    assert (record["user_id"], [str(g) for g in record["goal_ids"]]) == (
        clinic.client.id,
        [goal_id],
    )


async def test_not_this_time_records_the_reflection_and_offers_to_try_again(
    web: Web, clinic: Clinic, pool: asyncpg.Pool, projector: None
) -> None:
    goal_id = await _signed_in_with_goal(web, clinic, pool)
    before = await event_count(pool)
    unsure = await send_form(web, f"/my/goals/{goal_id}", f"/my/goals/{goal_id}/miss")
    assert unsure.status_code == 422
    assert CHOOSE_A_CAUSE in unsure.text
    assert await event_count(pool) == before
    sent = await send_form(
        web,
        f"/my/goals/{goal_id}",
        f"/my/goals/{goal_id}/miss",
        cause="obstacles",
        reflection="Work got busy",
    )
    assert sent.status_code == 303
    events = await goal_events(pool, goal_id)
    assert events[-1]["event_type"] == "goal_missed"
    assert json.loads(events[-1]["metadata"])["actor_id"] == str(clinic.client.id)
    page = await web.get(sent.headers["location"])
    assert REFLECTED in page.text
    assert "Not this time" in page.text
    assert "Work got busy" in page.text
    assert f'href="/my/goals/new?replaces={goal_id}"' in page.text
    assert "fail" not in page.text.lower()


async def test_sharing_names_the_partner_by_address(
    web: Web, clinic: Clinic, pool: asyncpg.Pool, projector: None
) -> None:
    goal_id = await _signed_in_with_goal(web, clinic, pool)
    before = await event_count(pool)
    for address in ("nobody@example.org", "north.therapist@example.org"):
        refused = await send_form(
            web, f"/my/goals/{goal_id}", f"/my/goals/{goal_id}/partners", email=address
        )
        assert refused.status_code == 422
        assert NO_PARTNER in refused.text
        assert 'aria-describedby="share-error"' in refused.text
    assert await event_count(pool) == before
    shared = await send_form(
        web, f"/my/goals/{goal_id}", f"/my/goals/{goal_id}/partners", email=SUPPORTER_EMAIL
    )
    assert shared.status_code == 303
    events = await goal_events(pool, goal_id)
    assert events[-1]["event_type"] == "supporter_added"
    page = await web.get(shared.headers["location"])
    assert SHARED in page.text
    assert "Stop sharing with" in page.text
    seen = await web.get(f"/v1/goals/{goal_id}", headers=clinic.supporter.headers)
    assert seen.status_code == 200


async def test_another_clients_goal_is_not_found_and_nothing_is_written(
    web: Web, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    theirs = str((await set_goal(web, clinic))["goal_id"])
    await project_everything(pool)
    await sign_in(web, pool, "north.other_client@example.org")
    before = await event_count(pool)
    assert (await web.get(f"/my/goals/{theirs}")).status_code == 404
    assert (await web.get(f"/my/goals/new?replaces={theirs}")).status_code == 404
    page = await web.get("/my/goals")
    token = csrf_token(page)
    for action, fields in (
        (f"/my/goals/{theirs}/miss", {"cause": "other"}),
        (f"/my/goals/{theirs}/partners", {"email": SUPPORTER_EMAIL}),
        (f"/my/goals/{theirs}/partners/{clinic.supporter.id}/removal", {}),
        (
            f"/my/goals/new?replaces={theirs}",
            {
                "statement": "Mine now",
                "target": "1",
                "kind": "count",
                "unit": "walks",
                "cadence": "per_week",
                "life_area": "other",
                "start_date": "2026-11-26",
                "due_date": "2026-12-26",
            },
        ),
    ):
        sent = await web.post(action, data={"_csrf_token": token, **fields})
        assert sent.status_code == 404, (action, sent.status_code)
    assert await event_count(pool) == before


async def test_the_forms_need_their_csrf_token(
    web: Web, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    goal_id = await _signed_in_with_goal(web, clinic, pool)
    before = await event_count(pool)
    for action, fields in (
        (f"/my/goals/{goal_id}/miss", {"cause": "other"}),
        (f"/my/goals/{goal_id}/partners", {"email": SUPPORTER_EMAIL}),
        ("/my/goals/new", {"statement": "Read", "target": "1"}),
    ):
        refused = await web.post(action, data=fields)
        assert refused.status_code == 403
        assert "This form had expired" in refused.text
    assert await event_count(pool) == before


async def test_a_long_history_shows_its_latest_events(
    web: Web, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    goal_id = await _signed_in_with_goal(web, clinic, pool)
    for index in range(MAX_HISTORY_PAGE):
        sent = await web.post(
            f"/v1/goals/{goal_id}/check-ins",
            json={"note": f"walk number {index}"},
            headers=clinic.client.headers,
        )
        assert sent.status_code == 200
    page = await web.get(f"/my/goals/{goal_id}")
    assert "walk number 199" in page.text  # the latest, not the first 200 of 201
    assert "Goal set" not in page.text
    assert f"The latest {MAX_HISTORY_PAGE} events; earlier ones are kept too." in page.text
