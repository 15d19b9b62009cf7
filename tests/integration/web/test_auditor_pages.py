"""The auditor's pages over HTTP: a goal's history with its corrections beside what they
correct (its read access-logged), the access log by client, person and day, a page at a time.
Only auditors reach them, and only their own clinic's records."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from infra.db.connection import Connection
from tests.integration.api.support import set_goal
from tests.integration.api.world import Clinic
from tests.integration.audit.chain_log import tamper
from tests.integration.web.pages import Web, sign_in

AUDITOR = "north.auditor@example.org"


async def _corrected_goal(web: Web, clinic: Clinic) -> dict[str, Any]:
    """A goal with two check-ins, the first marked as entered in error."""
    goal = await set_goal(web, clinic)
    check_ins = [str(uuid.uuid4()), str(uuid.uuid4())]
    for check_in in check_ins:
        done = await web.post(
            f"/v1/goals/{goal['goal_id']}/check-ins",
            json={"amount": 1, "check_in_id": check_in},
            headers=clinic.client.headers,
        )
        assert done.status_code in {200, 201}, done.text
    corrected = await web.post(
        f"/v1/goals/{goal['goal_id']}/corrections",
        json={"scope": "check_in", "check_in_id": check_ins[0], "reason": "Counted twice"},
        headers=clinic.therapist.headers,
    )
    assert corrected.status_code == 200, corrected.text
    return goal


async def test_a_goals_history_shows_each_correction_beside_what_it_corrects_and_is_logged(
    web: Web, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    goal = await _corrected_goal(web, clinic)
    await sign_in(web, pool, AUDITOR)
    page = await web.get(f"/audit/goals/{goal['goal_id']}/history")
    assert page.status_code == 200, page.text
    api = await web.get(f"/v1/goals/{goal['goal_id']}/history", headers=clinic.auditor.headers)
    entries = api.json()
    assert [entry["type"] for entry in entries] == [
        "goal_set",
        "progress_recorded",
        "progress_recorded",
        "correction_recorded",
    ]
    first, second = page.text.split('id="version-2"')[1].split('id="version-3"')
    assert "Entered in error" in first
    assert "Corrected in event 4" in first
    assert "Why: Counted twice" in first
    assert "Entered in error" not in second.split('id="version-4"')[0]
    logged = await pool.fetchrow(
        "SELECT status, user_id, goal_ids FROM access_log WHERE path = $1",
        f"/audit/goals/{goal['goal_id']}/history",
    )
    assert logged is not None
    assert (logged["status"], logged["user_id"]) == (200, clinic.auditor.id)
    assert [str(goal_id) for goal_id in logged["goal_ids"]] == [goal["goal_id"]]


async def test_the_access_log_filters_by_client_person_and_day_a_page_at_a_time(
    web: Web, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    goal = await set_goal(web, clinic)
    for _ in range(51):
        read = await web.get(f"/v1/goals/{goal['goal_id']}", headers=clinic.therapist.headers)
        assert read.status_code == 200
    await web.get("/v1/me/goals", headers=clinic.other_client.headers)
    await sign_in(web, pool, AUDITOR)
    everything = await web.get("/audit/access-log")
    assert everything.status_code == 200
    assert everything.text.count("<tr>") == 1 + 50
    assert "Older records" in everything.text
    by_client = await web.get(f"/audit/access-log?client_id={clinic.other_client.id}")
    assert by_client.text.count("<tr>") == 1 + 1
    assert "north other_client (client)" in by_client.text
    by_person = await web.get(f"/audit/access-log?user_id={clinic.therapist.id}")
    assert "north other_client" not in by_person.text.split("<tbody>")[1]
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    later = await web.get(f"/audit/access-log?since={tomorrow}")
    assert "Nothing recorded here." in later.text
    today = datetime.now(UTC).date().isoformat()
    same_day = await web.get(f"/audit/access-log?since={today}&until={today}")
    assert "Older records" in same_day.text
    older = same_day.text.split('href="/audit/access-log?cursor=')[1].split('"')[0]
    second = await web.get("/audit/access-log?cursor=" + older.replace("&amp;", "&"))
    assert second.status_code == 200
    assert second.text.count("<tr>") >= 2


@pytest.mark.parametrize(
    "email", ["admin@north.example", "north.therapist@example.org", "north.client@example.org"]
)
async def test_nobody_but_an_auditor_reaches_the_auditors_pages(
    web: Web, clinic: Clinic, pool: asyncpg.Pool, email: str
) -> None:
    goal = await set_goal(web, clinic)
    await sign_in(web, pool, email)
    for path in ["/audit", "/audit/access-log", f"/audit/goals/{goal['goal_id']}/history"]:
        assert (await web.get(path)).status_code == 403, path


async def test_another_clinics_goals_and_records_are_not_the_auditors(
    south: Clinic, web: Web, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    theirs = await set_goal(web, south)
    read = await web.get(f"/v1/goals/{theirs['goal_id']}", headers=south.therapist.headers)
    assert read.status_code == 200
    await sign_in(web, pool, AUDITOR)
    assert (await web.get(f"/audit/goals/{theirs['goal_id']}/history")).status_code == 404
    log = await web.get(f"/audit/access-log?client_id={south.client.id}")
    assert "Nothing recorded here." in log.text
    assert "south" not in (await web.get("/audit/access-log")).text


async def test_a_goal_id_that_is_not_one_is_said_so(
    web: Web, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    await sign_in(web, pool, AUDITOR)
    sent = await web.get("/audit/goals?goal_id=nonsense")
    assert sent.headers["location"] == "/audit?unknown_goal=1"
    assert "Please enter a goal&#39;s id" in (await web.get(sent.headers["location"])).text


async def test_the_auditors_page_shows_a_whole_log_and_then_its_first_broken_link(
    web: Web, clinic: Clinic, pool: asyncpg.Pool, admin_conn: Connection
) -> None:
    goal = await set_goal(web, clinic)
    await sign_in(web, pool, AUDITOR)
    unasked = await web.get("/audit")
    assert "Check the log now" in unasked.text
    assert "The log is" not in unasked.text
    whole = await web.get("/audit?verify=true")
    assert whole.status_code == 200
    assert "The log is whole: no link is broken." in whole.text
    edited = await admin_conn.fetchval(
        "SELECT position FROM events WHERE stream_id = $1", f"goal-{goal['goal_id']}"
    )
    await tamper(
        admin_conn,
        "UPDATE events SET data = jsonb_set(data, '{title}', '\"Another goal\"') "
        f"WHERE position = {edited}",
    )
    broken = await web.get("/audit?verify=true")
    assert "The log is not whole." in broken.text
    assert f"The first broken link is at position {edited} " in broken.text
    assert "an event&#39;s fields were changed" in broken.text
