"""Reads served by the projection, with the projection brought up to date in-process.

No worker runs here, so the projection moves only when a test brings it up to date. How long a
read waits for a position is set per test, so that none depends on how long a wait takes.
"""

import asyncio
from datetime import UTC, datetime, timedelta
from functools import partial

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from infra.db.connection import Connection
from infra.projections import reads
from tests.integration.api.support import project_everything
from tests.integration.api.world import Clinic, goal_body

# Longer than any test may take: a read that waits this long has waited for what never comes.
_FOREVER = 3600.0
# Whatever a test does within this, it does without waiting on the projection.
_DEADLINE = 30.0


def _reads_wait_for_the_projection(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    monkeypatch.setattr(reads, "wait_for", partial(reads.wait_for, wait_seconds=seconds))


async def _set_goal(api: AsyncTestClient[Litestar], clinic: Clinic, **overrides: object) -> str:
    created = await api.post(
        "/v1/goals",
        json=goal_body(client_id=str(clinic.client.id), **overrides),
        headers=clinic.therapist.headers,
    )
    assert created.status_code == 201, created.text
    return str(created.json()["goal_id"])


async def test_progress_counts_check_ins_per_week_and_says_what_it_reflects(
    api: AsyncTestClient[Litestar],
    clinic: Clinic,
    pool: asyncpg.Pool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _reads_wait_for_the_projection(monkeypatch, 0)  # nothing would project meanwhile
    goal_id = await _set_goal(api, clinic)
    now = datetime.now(UTC)
    for _ in range(2):
        checked = await api.post(
            f"/v1/goals/{goal_id}/check-ins",
            json={"occurred_at": now.isoformat()},
            headers=clinic.client.headers,
        )
        assert checked.status_code == 200
    position = checked.json()["position"]

    stale = await api.get(
        f"/v1/goals/{goal_id}/progress",
        params={"min_position": position},
        headers=clinic.client.headers,
    )
    await project_everything(pool)
    fresh = await api.get(
        f"/v1/goals/{goal_id}/progress",
        params={"min_position": position},
        headers=clinic.client.headers,
    )

    assert stale.status_code == 404 or stale.json()["projected"]["stale"] is True
    assert fresh.status_code == 200, fresh.text
    body = fresh.json()
    assert body["projected"] == {"position": position, "stale": False}
    assert body["periods"][-1]["done"] == 2
    assert body["periods"][-1]["target"] == 3
    assert body["cadence"] == "per_week"


async def test_overview_counts_goals_and_scores_attainment(
    api: AsyncTestClient[Litestar], clinic: Clinic, pool: asyncpg.Pool
) -> None:
    goals = [await _set_goal(api, clinic) for _ in range(3)]
    for goal_id in goals:
        rated = await api.post(
            f"/v1/goals/{goal_id}/ratings", json={"rating": 1}, headers=clinic.therapist.headers
        )
        assert rated.status_code == 200, rated.text
    refused = await api.post(
        f"/v1/goals/{goals[0]}/ratings", json={"rating": 2}, headers=clinic.client.headers
    )
    await project_everything(pool)

    overview = await api.get(
        f"/v1/clients/{clinic.client.id}/overview", headers=clinic.therapist.headers
    )

    assert refused.status_code == 403
    assert overview.status_code == 200, overview.text
    body = overview.json()
    assert (body["active"], body["rated_goals"]) == (3, 3)
    assert body["attainment_t_score"] == 63.7
    assert body["overloaded"] is False


async def test_caseload_flags_a_client_with_a_goal_due_soon(
    api: AsyncTestClient[Litestar], clinic: Clinic, pool: asyncpg.Pool
) -> None:
    soon = (datetime.now(UTC).date() + timedelta(days=3)).isoformat()
    await _set_goal(api, clinic, due_date=soon)
    await project_everything(pool)

    page = await api.get("/v1/caseload", params={"limit": 1}, headers=clinic.therapist.headers)
    forbidden = await api.get("/v1/caseload", headers=clinic.client.headers)

    assert forbidden.status_code == 403
    assert page.status_code == 200, page.text
    (entry,) = page.json()["clients"]
    assert entry["client_id"] == str(clinic.client.id)
    assert entry["due_within_7_days"] is True
    assert page.json()["next_cursor"] is None


async def test_clinic_statistics_count_without_naming_anyone(
    api: AsyncTestClient[Litestar], clinic: Clinic, pool: asyncpg.Pool
) -> None:
    achieved = await _set_goal(api, clinic)
    await _set_goal(api, clinic)
    done = await api.post(
        f"/v1/goals/{achieved}/achievement", json={}, headers=clinic.client.headers
    )
    assert done.status_code == 200
    await project_everything(pool)

    stats = await api.get("/v1/clinic/stats", headers=clinic.admin.headers)
    refused = await api.get("/v1/clinic/stats", headers=clinic.therapist.headers)

    assert refused.status_code == 403
    (month,) = stats.json()["months"]
    assert (month["goals_set"], month["achieved"], month["missed"]) == (2, 1, 0)
    assert month["achievement_rate"] == 1.0
    assert str(clinic.client.id) not in stats.text


async def test_metrics_and_readiness_report_projection_lag(
    api: AsyncTestClient[Litestar], clinic: Clinic, pool: asyncpg.Pool
) -> None:
    await _set_goal(api, clinic)

    behind = (await api.get("/metrics")).text
    await project_everything(pool)
    caught_up = (await api.get("/metrics")).text
    ready = await api.get("/health/ready")

    assert 'goals_consumer_lag_events{consumer="goal_summaries"} 1' in behind
    assert 'goals_consumer_lag_events{consumer="goal_summaries"} 0' in caught_up
    assert 'goals_projection_events_applied_total{consumer="goal_summaries"} 1' in caught_up
    assert ready.status_code == 200
    assert ready.json()["checks"]["migrations"] == "ok"


async def test_readiness_reports_a_projection_stuck_for_minutes(
    api: AsyncTestClient[Litestar], clinic: Clinic, admin_conn: Connection
) -> None:
    await _set_goal(api, clinic)
    # Age the event: only a test, as a superuser, may lift the append-only trigger, and only
    # for a moment.
    await admin_conn.execute("ALTER TABLE events DISABLE TRIGGER events_append_only")
    await admin_conn.execute("UPDATE events SET recorded_at = now() - interval '5 minutes'")
    await admin_conn.execute("ALTER TABLE events ENABLE TRIGGER events_append_only")

    ready = await api.get("/health/ready")

    assert ready.status_code == 200
    assert ready.json()["status"] == "degraded"
    assert ready.json()["checks"]["goal_summaries"].startswith("stuck: 1 events")


async def test_lists_come_from_the_projection_and_wait_for_a_written_position(
    api: AsyncTestClient[Litestar], clinic: Clinic, pool: asyncpg.Pool
) -> None:
    goal_id = await _set_goal(api, clinic)
    before = await api.get("/v1/me/goals", headers=clinic.client.headers)
    await project_everything(pool)
    position = before.json()["projected"]["position"] + 1

    after = await api.get(
        "/v1/me/goals", params={"min_position": position}, headers=clinic.client.headers
    )
    never_given = await api.get(
        "/v1/me/goals", params={"min_position": 10**9}, headers=clinic.client.headers
    )
    async with pool.acquire() as conn:
        # A position never handed out is not waited for, however long a read may wait.
        not_waited = await asyncio.wait_for(reads.wait_for(conn, 10**9, _FOREVER), _DEADLINE)

    assert before.json()["goals"] == []
    assert [goal["goal_id"] for goal in after.json()["goals"]] == [goal_id]
    assert after.json()["projected"]["stale"] is False
    assert never_given.json()["projected"]["stale"] is True
    assert not_waited == reads.Watermark(after.json()["projected"]["position"], stale=True)


async def test_caseload_pages_follow_the_cursor_most_flagged_first(
    api: AsyncTestClient[Litestar], clinic: Clinic, pool: asyncpg.Pool
) -> None:
    joined = await api.put(
        f"/v1/clients/{clinic.other_client.id}/therapists/{clinic.therapist.id}",
        headers=clinic.admin.headers,
    )
    assert joined.status_code == 200
    soon = (datetime.now(UTC).date() + timedelta(days=2)).isoformat()
    flagged = await api.post(
        "/v1/goals",
        json=goal_body(client_id=str(clinic.other_client.id), due_date=soon),
        headers=clinic.therapist.headers,
    )
    assert flagged.status_code == 201
    await project_everything(pool)

    first = await api.get("/v1/caseload", params={"limit": 1}, headers=clinic.therapist.headers)
    cursor = first.json()["next_cursor"]
    second = await api.get(
        "/v1/caseload", params={"limit": 1, "cursor": cursor}, headers=clinic.therapist.headers
    )
    by_name = await api.get(
        "/v1/caseload", params={"sort": "name"}, headers=clinic.therapist.headers
    )
    forged = await api.get(
        "/v1/caseload", params={"cursor": "not-a-cursor"}, headers=clinic.therapist.headers
    )

    assert [entry["client_id"] for entry in first.json()["clients"]] == [
        str(clinic.other_client.id)
    ]
    assert [entry["client_id"] for entry in second.json()["clients"]] == [str(clinic.client.id)]
    assert second.json()["next_cursor"] is None
    names = [entry["display_name"] for entry in by_name.json()["clients"]]
    assert names == sorted(names, key=str.lower)
    assert forged.status_code == 400
    assert forged.json()["code"] == "invalid_cursor"
