"""GET /v1/audit/export over HTTP on real PostgreSQL: the auditor's clinic's events and access
records of a range as NDJSON, each in time order and ending with the counts; refused to every
other role."""

import json
import socket
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import asyncpg
import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.integration.api.support import assert_problem, clinic_id_of, set_goal
from tests.integration.api.world import Clinic
from tests.integration.audit.seeding import seed_events
from tests.waiting import wait_until

Api = AsyncTestClient[Litestar]


def records(body: str) -> list[dict[str, Any]]:
    lines = body.splitlines()
    assert body.endswith("\n")
    return [json.loads(line) for line in lines]


async def test_the_auditor_exports_their_clinics_events_of_a_range(
    api: Api, clinic: Clinic, other_clinic: Clinic, pool: asyncpg.Pool
) -> None:
    goal = await set_goal(api, clinic)
    await set_goal(api, other_clinic)
    checked = await api.post(
        f"/v1/goals/{goal['goal_id']}/check-ins", json={}, headers=clinic.client.headers
    )
    assert checked.status_code == 200, checked.text
    clinic_id = await clinic_id_of(api, clinic.auditor)
    read = await api.get(f"/v1/goals/{goal['goal_id']}", headers=clinic.therapist.headers)
    refused = await api.get(f"/v1/goals/{goal['goal_id']}", headers=other_clinic.therapist.headers)
    assert (read.status_code, refused.status_code) == (200, 404)

    answer = await api.get("/v1/audit/export", headers=clinic.auditor.headers)

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/x-ndjson")
    *lines, end = records(answer.text)
    events = [line for line in lines if line["kind"] == "event"]
    accesses = [line for line in lines if line["kind"] == "access"]
    assert lines == events + accesses, "the events first, then the access records"
    expected = await pool.fetch(
        "SELECT position FROM events WHERE coalesce(metadata ->> 'clinic_id', data ->> "
        "'clinic_id') = $1 ORDER BY recorded_at, position",
        str(clinic_id),
    )
    assert [event["position"] for event in events] == [row["position"] for row in expected]
    assert end == {
        "kind": "end",
        "records": len(lines),
        "events": len(events),
        "access_records": len(accesses),
    }
    # The therapist's read; not the other clinic's refused one, nor this export's own record
    # (committed after the range's end, now).
    (access,) = accesses
    assert (access["user_id"], access["role"], access["status"]) == (
        str(clinic.therapist.id),
        "therapist",
        200,
    )
    assert (access["route"], access["goal_ids"]) == ("/v1/goals/{goal_id}", [goal["goal_id"]])
    assert access["clinic_id"] == str(clinic_id)
    assert access["correlation_id"] == read.headers["x-request-id"]
    assert {event["clinic_id"] for event in events} == {str(clinic_id)}
    mine = [event for event in events if event["stream_id"] == f"goal-{goal['goal_id']}"]
    assert [event["event_type"] for event in mine] == ["goal_set", "progress_recorded"]
    assert mine[1]["metadata"]["actor_id"] == str(clinic.client.id)
    assert mine[1]["data"]["goal_id"] == goal["goal_id"]
    assert mine[1]["previous_hash"] == mine[0]["hash"]
    assert len(bytes.fromhex(mine[1]["hash"])) == 32

    # A range: from the check-in (included) to a moment after it.
    at = datetime.fromisoformat(mine[1]["recorded_at"])
    ranged = await api.get(
        "/v1/audit/export",
        params={"from": at.isoformat(), "to": (at + timedelta(microseconds=1)).isoformat()},
        headers=clinic.auditor.headers,
    )
    *in_range, end = records(ranged.text)
    assert [event["event_id"] for event in in_range] == [mine[1]["event_id"]]
    after_the_read = await api.get(
        "/v1/audit/export",
        params={"from": access["recorded_at"]},
        headers=clinic.auditor.headers,
    )
    *from_the_read, _ = records(after_the_read.text)
    # The read, then the two exports taken since (each export is itself access-logged).
    assert from_the_read[0] == access
    assert [(line["kind"], line["route"]) for line in from_the_read[1:]] == [
        ("access", "/v1/audit/export")
    ] * 2
    excluded = await api.get(
        "/v1/audit/export", params={"to": at.isoformat()}, headers=clinic.auditor.headers
    )
    assert mine[1]["event_id"] not in excluded.text


# The refusals write nothing: they share the module's database, app and clinic
# (tests/integration/api/conftest.py).
@pytest.mark.parametrize(
    "role", ["client", "therapist", "supporter", "admin", "integration", "other_therapist"]
)
async def test_only_the_auditor_may_export(
    module_api: Api, module_clinic: Clinic, role: str
) -> None:
    answer = await module_api.get("/v1/audit/export", headers=getattr(module_clinic, role).headers)
    assert_problem(answer, 403, "forbidden")


async def test_an_anonymous_caller_is_not_authenticated(module_api: Api) -> None:
    assert (await module_api.get("/v1/audit/export")).status_code == 401


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"from": "yesterday"}, "invalid_from"),
        ({"to": "2026-01-01T00:00:00"}, "invalid_to"),
        ({"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "invalid_range"),
        ({"from": "2026-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "invalid_range"),
    ],
)
async def test_a_bad_range_is_refused(
    module_api: Api, module_clinic: Clinic, params: dict[str, str], code: str
) -> None:
    answer = await module_api.get(
        "/v1/audit/export", params=params, headers=module_clinic.auditor.headers
    )
    assert_problem(answer, 400, code)


async def test_an_empty_range_is_just_its_end_line(api: Api, clinic: Clinic) -> None:
    long_ago = datetime(2000, 1, 1, tzinfo=UTC)
    answer = await api.get(
        "/v1/audit/export",
        params={"from": long_ago.isoformat(), "to": (long_ago + timedelta(days=1)).isoformat()},
        headers=clinic.auditor.headers,
    )
    assert records(answer.text) == [{"kind": "end", "records": 0, "events": 0, "access_records": 0}]


async def test_a_reader_that_goes_away_gives_the_connection_back(
    api: Api, served_api: httpx.AsyncClient, clinic: Clinic, pool: asyncpg.Pool, admin_conn: Any
) -> None:
    """An auditor who stops reading mid-export leaves no session holding the snapshot open."""
    clinic_id = await clinic_id_of(api, clinic.auditor)
    await seed_events(admin_conn, clinic_id, 50_000, datetime(2025, 1, 1, tzinfo=UTC), uuid4())

    exporting = (
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND query LIKE '%json_build_object%' "
        "AND query NOT LIKE '%pg_stat_activity%' AND state <> 'idle'"
    )
    # A reader with a small receive buffer: the server's writes stop a few megabytes in, where
    # a default one (tens of megabytes on loopback) could take the whole export before a look.
    slow = httpx.AsyncHTTPTransport(socket_options=[(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)])
    async with (
        httpx.AsyncClient(transport=slow, base_url=served_api.base_url, timeout=30) as reader,
        reader.stream("GET", "/v1/audit/export", headers=clinic.auditor.headers) as answer,
    ):
        assert answer.status_code == 200
        async for chunk in answer.aiter_bytes():
            assert chunk
            break
        # Mid-export: the snapshot is open.
        assert await admin_conn.fetchval(exporting) == 1

    async def snapshot_closed() -> bool:
        return bool(await admin_conn.fetchval(exporting) == 0)

    # The server learns the reader went away only at its next write; on a loaded machine
    # that can take seconds.
    assert await wait_until(snapshot_closed, within=30, interval=0.05)
