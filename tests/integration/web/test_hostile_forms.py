"""Every form, sent what a hostile browser would: no answer is a 5xx, and a refused form
writes nothing (but the access record every goal read leaves, refusals included)."""

import asyncpg
import pytest

from tests.integration.api.support import project_everything, row_counts, set_goal
from tests.integration.api.world import Clinic
from tests.integration.web.pages import Web, csrf_token, sign_in

FORMS = ["/sign-in", "/sign-in/link", "/invitation", "/my/goals/{goal_id}/check-ins"]
HOSTILE = [
    b"email=%00&code=%00&amount=%00",
    b"email=\xff\xfe&code=\xff&amount=\xff",
    b"amount=1e999&check_in_id=not-a-uuid",
    b"amount=nan",
    b"code=" + b"x" * 100_000,
    b'{"email": "json@example.org"}',
]


async def _rows(pool: asyncpg.Pool) -> dict[str, int]:
    counts = await row_counts(pool)
    del counts["public.access_log"]
    return counts


@pytest.mark.parametrize("form", FORMS)
async def test_no_hostile_form_fails_or_writes_when_refused(
    web: Web, clinic: Clinic, pool: asyncpg.Pool, form: str
) -> None:
    goal = await set_goal(web, clinic)
    await project_everything(pool)
    await sign_in(web, pool, "north.client@example.org")
    token = csrf_token(await web.get("/my/goals"))
    path = form.format(goal_id=goal["goal_id"])
    for body in HOSTILE:
        before = await _rows(pool)
        answer = await web.post(
            path,
            content=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "x-csrftoken": token,
            },
        )
        assert answer.status_code < 500, (body[:40], answer.text)
        if answer.status_code >= 400:
            assert await _rows(pool) == before, body[:40]
