"""The therapist's caseload and client pages: what the API reads and writes, for the care team
alone, every goal read access-logged, every refusal writing nothing."""

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from services.web.therapist.client import ADJUSTED, NOTHING_TO_ADJUST, RATED
from services.web.therapist.words import FLAG_WORDS
from tests.integration.api.support import goal_events, project_everything, row_counts, set_goal
from tests.integration.api.world import Clinic, goal_body
from tests.integration.web.pages import Web, csrf_token, sign_in

THERAPIST_EMAIL = "north.therapist@example.org"


async def _rows(pool: asyncpg.Pool) -> dict[str, int]:
    counts = await row_counts(pool)
    del counts["public.access_log"]  # every goal read leaves one, refusals included
    return counts


async def _therapist_with_goal(web: Web, clinic: Clinic, pool: asyncpg.Pool) -> str:
    soon = (datetime.now(UTC).date() + timedelta(days=3)).isoformat()
    goal = await set_goal(web, clinic, due_date=soon)
    await project_everything(pool)
    await sign_in(web, pool, THERAPIST_EMAIL)
    return str(goal["goal_id"])


async def test_the_caseload_shows_each_client_with_the_apis_flags_in_words(
    web: Web, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    await _therapist_with_goal(web, clinic, pool)
    page = await web.get("/caseload")
    assert page.status_code == 200, page.text
    assert "north client" in page.text
    assert "north other_client" not in page.text  # in another therapist's care
    api = await web.get("/v1/caseload", headers=clinic.therapist.headers)
    (entry,) = api.json()["clients"]
    raised = [words for field, words in FLAG_WORDS.items() if entry[field]]
    assert FLAG_WORDS["due_within_7_days"] in raised
    for words in FLAG_WORDS.values():
        assert (words in page.text) == (words in raised), words
    record = await pool.fetchrow(
        "SELECT user_id, client_ids, goal_ids FROM access_log"
        " WHERE route = '/caseload' ORDER BY id DESC LIMIT 1"
    )
    assert record is not None
    assert record["user_id"] == clinic.therapist.id
    assert record["client_ids"] == [clinic.client.id]
    assert len(record["goal_ids"]) == 1


async def test_the_caseload_sorts_by_name_and_pages_through_plain_links(
    web: Web, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    for number in range(26):  # one more than a page
        created = await web.post(
            "/v1/users",
            json={
                "role": "client",
                "display_name": f"Client {number:02}",
                "email": f"client{number}@example.org",
                "time_zone": "Europe/Berlin",
            },
            headers=clinic.admin.headers,
        )
        assert created.status_code == 201, created.text
        assigned = await web.put(
            f"/v1/clients/{created.json()['id']}/therapists/{clinic.therapist.id}",
            headers=clinic.admin.headers,
        )
        assert assigned.status_code == 200, assigned.text
    await sign_in(web, pool, THERAPIST_EMAIL)
    first = await web.get("/caseload?sort=name")
    assert first.status_code == 200
    assert first.text.index("Client 00") < first.text.index("Client 24")
    assert "Client 25" not in first.text
    assert "north client" not in first.text
    next_link = first.text.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = await web.get(next_link.replace("&amp;", "&"))
    assert second.status_code == 200
    assert "Client 25" in second.text
    assert "north client" in second.text
    assert "Client 00" not in second.text
    assert 'rel="next"' not in second.text
    assert "First page" in second.text
    assert (await web.get("/caseload?sort=age")).status_code == 422  # as the API answers
    assert (await web.get("/caseload?cursor=not-ours")).status_code == 400


async def test_rating_a_goal_posts_the_apis_command_and_shows_the_t_score(
    web: Web, clinic: Clinic, pool: asyncpg.Pool, projector: None
) -> None:
    goal_id = await _therapist_with_goal(web, clinic, pool)
    page_path = f"/caseload/clients/{clinic.client.id}"
    page = await web.get(page_path)
    assert page.status_code == 200, page.text
    assert "Not rated yet" in page.text
    sent = await web.post(
        f"/caseload/goals/{goal_id}/rating",
        data={"_csrf_token": csrf_token(page), "rating": "1", "note": "Steady"},
    )
    assert sent.status_code == 303, sent.text
    events = await goal_events(pool, goal_id)
    assert events[-1]["event_type"] == "goal_rated"
    assert sent.headers["location"].startswith(f"{page_path}?after={events[-1]['position']}")
    back = await web.get(sent.headers["location"])
    assert RATED in back.text
    assert "+1: somewhat more than expected" in back.text
    overview = await web.get(
        f"/v1/clients/{clinic.client.id}/overview", headers=clinic.therapist.headers
    )
    assert f"{overview.json()['attainment_t_score']:.1f} (from 1 rated goal" in back.text


async def test_adjusting_a_goal_changes_its_terms_with_the_reason(
    web: Web, clinic: Clinic, pool: asyncpg.Pool, projector: None
) -> None:
    goal_id = await _therapist_with_goal(web, clinic, pool)
    page_path = f"/caseload/clients/{clinic.client.id}"
    page = await web.get(page_path)
    assert "0 of 3 walks" in page.text
    sent = await web.post(
        f"/caseload/goals/{goal_id}/adjustment",
        data={"_csrf_token": csrf_token(page), "target": "2", "reason": "A busy month"},
    )
    assert sent.status_code == 303, sent.text
    events = await goal_events(pool, goal_id)
    assert events[-1]["event_type"] == "goal_adjusted"
    back = await web.get(sent.headers["location"])
    assert ADJUSTED in back.text
    assert "0 of 2 walks" in back.text


@pytest.mark.parametrize(
    ("action", "fields", "words"),
    [
        ("rating", {"rating": "3"}, "A rating is a whole number from -2 to +2."),
        ("rating", {"rating": "much"}, "Please choose a rating from -2 to +2."),
        ("adjustment", {"target": "3", "reason": "Same"}, NOTHING_TO_ADJUST),
        (
            "adjustment",
            {"target": "-1", "reason": "Less"},
            "The target must be a number above zero.",
        ),
        ("adjustment", {"target": "2", "reason": ""}, "Please write a few words here."),
    ],
)
async def test_a_refused_form_shows_the_rules_words_and_writes_nothing(
    web: Web, clinic: Clinic, pool: asyncpg.Pool, action: str, fields: dict[str, str], words: str
) -> None:
    goal_id = await _therapist_with_goal(web, clinic, pool)
    page = await web.get(f"/caseload/clients/{clinic.client.id}")
    before = await _rows(pool)
    sent = await web.post(
        f"/caseload/goals/{goal_id}/{action}", data={"_csrf_token": csrf_token(page), **fields}
    )
    assert sent.status_code == 422, sent.text
    assert words in sent.text
    assert f'id="error-{goal_id}"' in sent.text
    assert await _rows(pool) == before


async def test_a_client_outside_the_care_team_is_refused_as_if_unknown(
    web: Web, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    theirs = await web.post(
        "/v1/goals",
        json=goal_body(client_id=str(clinic.other_client.id)),
        headers=clinic.other_therapist.headers,
    )
    assert theirs.status_code == 201, theirs.text
    goal_id = theirs.json()["goal_id"]
    await project_everything(pool)
    await sign_in(web, pool, THERAPIST_EMAIL)
    page = await web.get(f"/caseload/clients/{clinic.other_client.id}")
    assert page.status_code == 404
    assert "Walk for 30 minutes" not in page.text
    token = csrf_token(await web.get("/caseload"))
    before = await _rows(pool)
    for action, fields in (
        ("rating", {"rating": "2"}),
        ("adjustment", {"target": "1", "reason": "x"}),
    ):
        sent = await web.post(
            f"/caseload/goals/{goal_id}/{action}", data={"_csrf_token": token, **fields}
        )
        assert sent.status_code == 404, sent.text
    assert await _rows(pool) == before


async def test_only_a_therapist_has_a_caseload(
    web: Web, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    await sign_in(web, pool, "north.client@example.org")
    for path in ("/caseload", f"/caseload/clients/{clinic.client.id}"):
        page = await web.get(path)
        assert (page.status_code, page.headers["location"]) == (303, "/my/goals")


async def test_a_form_without_its_csrf_token_changes_nothing(
    web: Web, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    goal_id = await _therapist_with_goal(web, clinic, pool)
    before = await _rows(pool)
    for fields in ({}, {"_csrf_token": "forged"}):
        refused = await web.post(
            f"/caseload/goals/{goal_id}/rating", data={"rating": "1", **fields}
        )
        assert refused.status_code == 403
        assert "This form had expired" in refused.text
    assert await _rows(pool) == before


async def test_reading_a_clients_page_is_access_logged_like_the_api(
    web: Web, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    goal_id = await _therapist_with_goal(web, clinic, pool)
    assert (await web.get(f"/caseload/clients/{clinic.client.id}")).status_code == 200
    record = await pool.fetchrow(
        "SELECT user_id, role, client_ids, goal_ids, status FROM access_log"
        " WHERE route = '/caseload/clients/{client_id}' ORDER BY id DESC LIMIT 1"
    )
    assert record is not None
    assert (record["user_id"], record["role"]) == (clinic.therapist.id, "therapist")
    assert record["client_ids"] == [clinic.client.id]
    assert [str(goal) for goal in record["goal_ids"]] == [goal_id]
    assert record["status"] == 200


HOSTILE = [
    ("rating", b"rating=%00"),
    ("rating", b"rating=nan&note=%00"),
    ("rating", b"rating=1e999"),
    ("rating", b"rating=\xff\xfe"),
    ("adjustment", b"target=nan&reason=x"),
    ("adjustment", b"target=1e999&reason=x"),
    ("adjustment", b"due_date=99999-01-01&reason=x"),
    ("adjustment", b"due_date=%00&reason=%00"),
    ("adjustment", b"target=2&reason=" + b"x" * 100_000),
    ("adjustment", b'{"target": 2, "reason": "json"}'),
]


@pytest.mark.parametrize(("action", "body"), HOSTILE)
async def test_no_hostile_form_fails_or_writes(
    web: Web, clinic: Clinic, pool: asyncpg.Pool, action: str, body: bytes
) -> None:
    goal_id = await _therapist_with_goal(web, clinic, pool)
    token = csrf_token(await web.get(f"/caseload/clients/{clinic.client.id}"))
    before = await _rows(pool)
    answer = await web.post(
        f"/caseload/goals/{goal_id}/{action}",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", "x-csrftoken": token},
    )
    assert 400 <= answer.status_code < 500, (body[:40], answer.text)
    assert await _rows(pool) == before
