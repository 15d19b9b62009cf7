"""The partner's page: the goals shared with them in the shared view alone, and encouragement
sent as the API sends it; a goal not shared with them is refused as if unknown, writing
nothing."""

from datetime import UTC, datetime, time, timedelta

import asyncpg
import pytest

from infra.nudges.scanner import scan
from services.web.partner.shared_goals import SENT
from tests.integration.api.support import project_everything, row_counts, set_goal
from tests.integration.api.world import Clinic
from tests.integration.web.pages import Web, csrf_token, sign_in

SUPPORTER_EMAIL = "north.supporter@example.org"


async def _rows(pool: asyncpg.Pool) -> dict[str, int]:
    counts = await row_counts(pool)
    del counts["public.access_log"]  # every goal read leaves one, refusals included
    return counts


async def _shared_and_not(web: Web, clinic: Clinic, pool: asyncpg.Pool) -> tuple[str, str]:
    """Two goals of the client: the first shared with the supporter, the second not."""
    shared = await set_goal(web, clinic, statement="Walk for 30 minutes")
    private = await set_goal(web, clinic, statement="Write in my journal")
    added = await web.post(
        f"/v1/goals/{shared['goal_id']}/supporters/{clinic.supporter.id}",
        headers=clinic.client.headers,
    )
    assert added.status_code == 200, added.text
    await project_everything(pool)
    await sign_in(web, pool, SUPPORTER_EMAIL)
    return str(shared["goal_id"]), str(private["goal_id"])


async def test_a_partner_sees_only_the_goals_shared_with_them_in_the_shared_view(
    web: Web, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    shared, private = await _shared_and_not(web, clinic, pool)
    page = await web.get("/shared/goals")
    assert page.status_code == 200, page.text
    assert "Walk for 30 minutes" in page.text
    assert "0 of 3 walks" in page.text
    assert "Write in my journal" not in page.text
    assert private not in page.text
    for not_shared in ("When I finish lunch", "physical_health", "north client"):
        assert not_shared not in page.text  # the cue, the life area, the client's name
    record = await pool.fetchrow(
        "SELECT user_id, role, client_ids, goal_ids FROM access_log"
        " WHERE route = '/shared/goals' ORDER BY id DESC LIMIT 1"
    )
    assert record is not None
    assert (record["user_id"], record["role"]) == (clinic.supporter.id, "supporter")
    assert record["client_ids"] == [clinic.client.id]
    assert [str(goal) for goal in record["goal_ids"]] == [shared]


async def test_encouragement_reaches_the_clients_inbox(
    web: Web, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    shared, _ = await _shared_and_not(web, clinic, pool)
    page = await web.get("/shared/goals")
    sent = await web.post(
        f"/shared/goals/{shared}/encouragements",
        data={"_csrf_token": csrf_token(page), "message": "You have got this!"},
    )
    assert sent.status_code == 303, sent.text
    assert sent.headers["location"] == f"/shared/goals?encouraged={shared}#goal-{shared}"
    back = await web.get(sent.headers["location"])
    assert SENT in back.text
    # The workers' scan delivers it, at noon tomorrow (outside the client's quiet hours).
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    async with pool.acquire() as conn:
        await scan(conn, datetime.combine(tomorrow, time(11), UTC), due_soon_days=3, email=None)
    inbox = await web.get("/v1/me/nudges", headers=clinic.client.headers)
    items = inbox.json()["items"]
    (nudge,) = [item for item in items if item["kind"] == "encouragement"]  # beside reminders
    assert nudge["goal_id"] == shared
    assert nudge["message"].endswith("You have got this!")


@pytest.mark.parametrize(
    ("message", "words"),
    [("   ", "Please write a few words here."), ("x" * 501, "Please keep this under 500")],
)
async def test_a_message_the_rules_refuse_shows_why_and_writes_nothing(
    web: Web, clinic: Clinic, pool: asyncpg.Pool, message: str, words: str
) -> None:
    shared, _ = await _shared_and_not(web, clinic, pool)
    page = await web.get("/shared/goals")
    before = await _rows(pool)
    sent = await web.post(
        f"/shared/goals/{shared}/encouragements",
        data={"_csrf_token": csrf_token(page), "message": message},
    )
    assert sent.status_code == 422, sent.text
    assert words in sent.text
    assert f'id="error-{shared}"' in sent.text
    assert await _rows(pool) == before


async def test_a_goal_not_shared_with_the_partner_is_refused_as_if_unknown(
    web: Web, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    _, private = await _shared_and_not(web, clinic, pool)
    token = csrf_token(await web.get("/shared/goals"))
    before = await _rows(pool)
    for bad in (private, "not-a-goal"):
        sent = await web.post(
            f"/shared/goals/{bad}/encouragements", data={"_csrf_token": token, "message": "Hi"}
        )
        assert sent.status_code == 404, sent.text
    hostile = await web.post(
        f"/shared/goals/{private}/encouragements",
        data={"_csrf_token": token, "message": "nul\x00"},
    )
    assert hostile.status_code == 400
    assert await _rows(pool) == before


async def test_a_form_without_its_csrf_token_changes_nothing(
    web: Web, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    shared, _ = await _shared_and_not(web, clinic, pool)
    before = await _rows(pool)
    for fields in ({}, {"_csrf_token": "forged"}):
        refused = await web.post(
            f"/shared/goals/{shared}/encouragements", data={"message": "Hi", **fields}
        )
        assert refused.status_code == 403
    assert await _rows(pool) == before


async def test_only_a_partner_has_shared_goals(
    web: Web, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    await sign_in(web, pool, "north.therapist@example.org")
    page = await web.get("/shared/goals")
    assert (page.status_code, page.headers["location"]) == (303, "/caseload")
