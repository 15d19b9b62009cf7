"""A client's nudges inbox, notification preferences and "who has looked at my goals": the API's
data and paths, each form behind its CSRF token, nothing of anyone else's."""

import asyncpg

from services.web.client_preferences import SAVED
from tests.integration.api.support import project_everything, set_goal
from tests.integration.api.test_nudges import _awake, _deliver, _encourage, _shared_goal
from tests.integration.api.world import Clinic
from tests.integration.web.pages import Web, csrf_token, send_form, sign_in

CLIENT_EMAIL = "north.client@example.org"
PREFERENCES = "/v1/me/notification-preferences"


async def _encouraged(web: Web, clinic: Clinic, pool: asyncpg.Pool) -> str:
    goal_id = await _shared_goal(web, clinic)
    sent = await _encourage(web, goal_id, clinic.supporter, "You can do this!")
    assert sent.status_code == 201, sent.text
    await _deliver(pool, _awake())
    return str(sent.json()["nudge_id"])


async def test_the_inbox_shows_a_nudge_and_marks_it_read(
    web: Web, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    nudge_id = await _encouraged(web, clinic, pool)
    await sign_in(web, pool, CLIENT_EMAIL)
    inbox = await web.get("/nudges")
    assert "You can do this!" in inbox.text
    assert "Encouragement from your partner" in inbox.text
    assert "New" in inbox.text
    one = await web.get(f"/nudges/{nudge_id}")  # where the nudge e-mail's link leads
    assert one.status_code == 200
    assert "You can do this!" in one.text
    marked = await send_form(web, "/nudges", f"/nudges/{nudge_id}/read")
    assert marked.status_code == 303
    api = await web.get("/v1/me/nudges", headers=clinic.client.headers)
    assert api.json()["items"][0]["read_at"] is not None
    assert "Mark as read" not in (await web.get("/nudges")).text


async def test_another_persons_nudge_is_not_found_and_stays_unread(
    web: Web, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    nudge_id = await _encouraged(web, clinic, pool)
    await sign_in(web, pool, "north.other_client@example.org")
    assert "You can do this!" not in (await web.get("/nudges")).text
    assert (await web.get(f"/nudges/{nudge_id}")).status_code == 404
    refused = await send_form(web, "/nudges", f"/nudges/{nudge_id}/read")
    assert refused.status_code == 404
    forged = await web.post(f"/nudges/{nudge_id}/read")
    assert forged.status_code == 403
    api = await web.get("/v1/me/nudges", headers=clinic.client.headers)
    assert api.json()["items"][0]["read_at"] is None


async def test_preferences_are_kept_as_the_api_keeps_them(
    web: Web, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    goal_id = str((await set_goal(web, clinic))["goal_id"])
    await project_everything(pool)
    await sign_in(web, pool, CLIENT_EMAIL)
    page = await web.get("/my/notifications")
    assert "Walk for 30 minutes" in page.text
    fields = {
        "quiet_start": "22:30",
        "quiet_end": "07:15",
        "daily_cap": "2",
        "reminder_time": "18:00",
        "email": "on",
        "muted_goals": goal_id,
    }
    saved = await send_form(web, "/my/notifications", "/my/notifications", **fields)
    assert saved.status_code == 303
    assert SAVED in (await web.get(saved.headers["location"])).text
    kept = (await web.get(PREFERENCES, headers=clinic.client.headers)).json()
    assert kept["quiet_hours"] == {"start": "22:30", "end": "07:15"}
    assert (kept["daily_cap"], kept["reminder_time"]) == (2, "18:00")
    assert kept["channels"] == {"in_app": False, "email": True}
    assert kept["muted_goals"] == [goal_id]
    refused = await send_form(
        web, "/my/notifications", "/my/notifications", **(fields | {"daily_cap": "99"})
    )
    assert refused.status_code == 422
    assert "Please enter a whole number from 1 to 20." in refused.text
    assert 'aria-describedby="error-daily_cap"' in refused.text
    forged = await web.post("/my/notifications", data=fields | {"daily_cap": "5"})
    assert forged.status_code == 403
    again = (await web.get(PREFERENCES, headers=clinic.client.headers)).json()
    assert again["daily_cap"] == 2


async def test_who_has_looked_names_the_reader_and_the_goal(
    web: Web, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    goal_id = str((await set_goal(web, clinic))["goal_id"])
    await project_everything(pool)
    read = await web.get(f"/v1/goals/{goal_id}", headers=clinic.therapist.headers)
    assert read.status_code == 200
    await sign_in(web, pool, CLIENT_EMAIL)
    page = await web.get("/my/access-log")
    assert page.status_code == 200
    assert "north therapist (therapist) looked" in page.text
    assert "Walk for 30 minutes" in page.text
    record = await pool.fetchrow(
        "SELECT user_id, client_ids, status FROM access_log"
        " WHERE route = '/my/access-log' ORDER BY id DESC LIMIT 1"
    )
    assert record is not None
    assert (record["user_id"], record["client_ids"]) == (clinic.client.id, [clinic.client.id])
    await sign_in(web, pool, "north.other_client@example.org")
    theirs = await web.get("/my/access-log")
    assert "Walk for 30 minutes" not in theirs.text
    assert "north therapist" not in theirs.text
    assert csrf_token(theirs)
