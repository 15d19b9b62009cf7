"""A client's forms, sent what a hostile browser would: no answer is a 5xx, and a refused form
writes nothing (but the access record every goal read leaves)."""

import asyncpg
import pytest

from tests.integration.api.support import project_everything, set_goal
from tests.integration.api.world import Clinic
from tests.integration.web.pages import Web, csrf_token, sign_in
from tests.integration.web.test_hostile_forms import HOSTILE, _rows

FORMS = [
    "/my/goals/new",
    "/my/goals/new?replaces={goal_id}",
    "/my/goals/{goal_id}/miss",
    "/my/goals/{goal_id}/partners",
    "/my/goals/{goal_id}/partners/{goal_id}/removal",
    "/my/notifications",
    "/nudges/{goal_id}/read",
]
CLIENT_HOSTILE = [
    *HOSTILE,
    b"statement=Walk%00more&kind=count&unit=walks&cadence=per_week&target=1&life_area=other"
    b"&start_date=2026-11-26&due_date=2026-12-26",
    b"statement=\xff\xfe&target=1e999&due_date=99999-99-99&kind=x&cadence=%00",
    b"statement=Walk&kind=count&unit=walks&cadence=per_week&target=nan&life_area=other"
    b"&start_date=0001-01-01&due_date=9999-12-31",
    b"values=" + b"v," * 5_000 + b"&statement=" + b"s" * 5_000,
    b"cause=%00&reflection=\xff",
    b"cause=other&reflection=" + b"r" * 100_000,
    b"email=%00%40example.org",
    b"quiet_start=25:99&quiet_end=%00&daily_cap=1e999&reminder_time=x&muted_goals=not-a-uuid",
]


@pytest.mark.parametrize("form", FORMS)
async def test_no_hostile_client_form_fails_or_writes_when_refused(
    web: Web, clinic: Clinic, pool: asyncpg.Pool, form: str
) -> None:
    goal = await set_goal(web, clinic)
    await project_everything(pool)
    await sign_in(web, pool, "north.client@example.org")
    token = csrf_token(await web.get("/my/goals"))
    path = form.format(goal_id=goal["goal_id"])
    for body in CLIENT_HOSTILE:
        before = await _rows(pool)
        answer = await web.post(
            path,
            content=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "x-csrftoken": token,
            },
        )
        assert answer.status_code < 500, (path, body[:60], answer.text[-500:])
        if answer.status_code >= 400:
            assert await _rows(pool) == before, (path, body[:60])
