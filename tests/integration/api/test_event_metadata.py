"""Each event records who wrote it, in which clinic, why, and the request that caused it."""

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.integration.api.support import clinic_id_of, goal_events, set_goal
from tests.integration.api.world import Clinic, goal_body

_GENERATED_ID = re.compile(r"^[0-9a-f]{32}$")
_LATER_DUE_DATE = (datetime.now(UTC).date() + timedelta(days=90)).isoformat()


async def _metadata(pool: asyncpg.Pool, goal_id: str, version: int) -> dict[str, Any]:
    events = await goal_events(pool, goal_id)
    metadata: dict[str, Any] = json.loads(events[version - 1]["metadata"])
    return metadata


async def test_a_request_id_is_echoed_and_recorded_with_who_wrote_the_event(
    api: AsyncTestClient[Litestar], clinic: Clinic, pool: asyncpg.Pool
) -> None:
    goal_id = (await set_goal(api, clinic))["goal_id"]

    response = await api.post(
        f"/v1/goals/{goal_id}/check-ins",
        json={"amount": 1},
        headers={**clinic.client.headers, "X-Request-ID": "abc-123"},
    )

    assert response.status_code == 200, response.text
    assert response.headers["x-request-id"] == "abc-123"
    metadata = await _metadata(pool, goal_id, 2)
    assert metadata["correlation_id"] == "abc-123"
    assert metadata["actor_id"] == str(clinic.client.id)
    assert metadata["actor_role"] == "client"
    assert metadata["clinic_id"] == str(await clinic_id_of(api, clinic.client))
    assert "reason" not in metadata


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("pause", {"reason": "Surgery next week"}),
        (
            "adjustments",
            {"changes": {"due_date": _LATER_DUE_DATE}, "reason": "More time after the move"},
        ),
        ("cancel", {"reason": "No longer what matters"}),
    ],
    ids=["pause", "adjust", "cancel"],
)
async def test_a_write_with_a_reason_records_it(
    api: AsyncTestClient[Litestar],
    clinic: Clinic,
    pool: asyncpg.Pool,
    path: str,
    body: dict[str, Any],
) -> None:
    goal_id = (await set_goal(api, clinic))["goal_id"]

    response = await api.post(
        f"/v1/goals/{goal_id}/{path}",
        json=body,
        headers={**clinic.therapist.headers, "X-Request-ID": f"req-{path}"},
    )

    assert response.status_code == 200, response.text
    metadata = await _metadata(pool, goal_id, 2)
    assert metadata["reason"] == body["reason"]
    assert metadata["correlation_id"] == f"req-{path}"
    assert metadata["actor_id"] == str(clinic.therapist.id)
    assert metadata["actor_role"] == "therapist"
    assert metadata["clinic_id"] == str(await clinic_id_of(api, clinic.therapist))
    history = await api.get(f"/v1/goals/{goal_id}/history", headers=clinic.client.headers)
    assert history.json()[-1]["reason"] == body["reason"]
    assert history.json()[-1]["correlation_id"] == f"req-{path}"


async def test_a_request_without_a_request_id_gets_a_generated_one(
    api: AsyncTestClient[Litestar], clinic: Clinic, pool: asyncpg.Pool
) -> None:
    first = await api.post(
        "/v1/goals",
        json=goal_body(statement="Read before bed"),
        headers=clinic.client.headers,
    )
    second = await api.get("/v1/me/goals", headers=clinic.client.headers)

    assert first.status_code == 201, first.text
    generated = first.headers["x-request-id"]
    assert _GENERATED_ID.match(generated)
    assert _GENERATED_ID.match(second.headers["x-request-id"])
    assert second.headers["x-request-id"] != generated
    assert (await _metadata(pool, first.json()["goal_id"], 1))["correlation_id"] == generated


@pytest.mark.parametrize(
    "request_id",
    ["has spaces", "x" * 129, "semi;colon", "a/b", "<script>"],
    ids=["spaces", "too long", "semicolon", "slash", "markup"],
)
async def test_an_unsafe_request_id_is_replaced_by_a_generated_one(
    module_api: AsyncTestClient[Litestar],
    module_clinic: Clinic,
    module_pool: asyncpg.Pool,
    request_id: str,
) -> None:
    """Each case reads its own goal's first event: they share the module's database, app and
    clinic."""
    response = await module_api.post(
        "/v1/goals",
        json=goal_body(statement="Read before bed"),
        headers={**module_clinic.client.headers, "X-Request-ID": request_id},
    )

    assert response.status_code == 201, response.text
    generated = response.headers["x-request-id"]
    assert _GENERATED_ID.match(generated)
    first = await _metadata(module_pool, response.json()["goal_id"], 1)
    assert first["correlation_id"] == generated


async def test_a_refused_request_echoes_its_request_id_too(
    api: AsyncTestClient[Litestar], clinic: Clinic
) -> None:
    for response in (
        await api.post(
            "/v1/goals",
            json=goal_body(statement="ab"),
            headers={**clinic.client.headers, "X-Request-ID": "support-ticket-7"},
        ),
        await api.get("/v1/me/goals", headers={"X-Request-ID": "support-ticket-7"}),
    ):
        assert response.status_code in {401, 422}, response.text
        assert response.headers["x-request-id"] == "support-ticket-7"
