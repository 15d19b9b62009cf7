"""Every request to a route that reads goal data leaves exactly one access record, committed
before its answer, whatever the answer: found, refused, or not authenticated."""

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient

from services.api.audit.subject import ACCESS_LOGGED
from services.api.auth import SIGNED_IN_BY_COOKIE
from tests.integration.api.access_records import records_of, request_id
from tests.integration.api.support import project_everything, set_goal
from tests.integration.api.world import Clinic, Person

# GET routes that read no goal data, and why: each route not named here must be access-logged.
FREE_OF_GOAL_DATA = {
    "/health/live": "the process answers",
    "/health/ready": "the process and its database answer",
    "/metrics": "counters, no one's data",
    "/schema": "the API's documentation",
    "/schema/openapi.json": "the API's documentation",
    "/schema/{path}": "the API's documentation",
    "/schema/swagger": "the API's documentation",
    "/schema/assets/{name}": "the API's documentation",
    "/fhir/r4/metadata": "the FHIR server's capabilities",
    "/v1/users": "the clinic's directory: people, not goals",
    "/v1/users/{user_id}": "a person, not their goals",
    "/v1/users/{user_id}/tokens": "credentials, not goals",
    "/v1/clinic/settings": "the clinic's settings",
    "/v1/audit/access-log": "the access log itself, shown to auditors (docs/api.md)",
    "/v1/me/access-log": "the access log itself, shown to the client it concerns",
    "/v1/audit/admin-actions": "the clinic's administration, not goals",
    "/v1/audit/verification": "whether the log's hash chains hold: positions and counts, no goal",
    "/v1/webhook-endpoints": "where the clinic's feeds go, not goals",
    "/v1/webhook-endpoints/{endpoint_id}": "where the clinic's feeds go, not goals",
    "/v1/webhook-endpoints/{endpoint_id}/deliveries": "what was sent when: ids and outcomes",
    "/v1/webhook-deliveries/{delivery_id}": "what was sent when: ids and outcomes",
    "/v1/me/nudges": "the caller's own notices, each already in the log as the nudge sent",
    "/v1/me/notification-preferences": "the caller's own settings",
    "/v1/unsubscribe/{token}": "a signed link that turns e-mail off",
    "/static/{file_path}": "the web app's stylesheet and scripts",
}


@dataclass(frozen=True)
class Read:
    url: str
    allowed: Callable[[Clinic], Person]
    refused: Callable[[Clinic], Person]
    refusal: int


def _reads(goal: str, client: UUID) -> dict[str, Read]:
    """An example request of every access-logged route, by whom it is answered and refused."""
    return {
        "/v1/goals/{goal_id}": Read(
            f"/v1/goals/{goal}", lambda c: c.therapist, lambda c: c.other_therapist, 404
        ),
        "/v1/goals/{goal_id}/history": Read(
            f"/v1/goals/{goal}/history", lambda c: c.auditor, lambda c: c.other_client, 404
        ),
        "/v1/goals/{goal_id}/progress": Read(
            f"/v1/goals/{goal}/progress", lambda c: c.client, lambda c: c.auditor, 403
        ),
        "/v1/clients/{client_id}/goals": Read(
            f"/v1/clients/{client}/goals", lambda c: c.therapist, lambda c: c.other_therapist, 404
        ),
        "/v1/clients/{client_id}/overview": Read(
            f"/v1/clients/{client}/overview", lambda c: c.client, lambda c: c.other_client, 404
        ),
        "/v1/clients/{client_id}/record": Read(
            f"/v1/clients/{client}/record", lambda c: c.therapist, lambda c: c.other_therapist, 404
        ),
        "/v1/audit/export": Read("/v1/audit/export", lambda c: c.auditor, lambda c: c.admin, 403),
        "/v1/me/goals": Read("/v1/me/goals", lambda c: c.client, lambda c: c.admin, 403),
        "/v1/caseload": Read("/v1/caseload", lambda c: c.therapist, lambda c: c.client, 403),
        "/v1/clinic/stats": Read("/v1/clinic/stats", lambda c: c.admin, lambda c: c.client, 403),
        "/fhir/r4/Goal/{goal_id}": Read(
            f"/fhir/r4/Goal/{goal}", lambda c: c.integration, lambda c: c.other_therapist, 404
        ),
        "/fhir/r4/Goal": Read(
            f"/fhir/r4/Goal?patient={client}", lambda c: c.integration, lambda c: c.supporter, 404
        ),
    }


def get_routes(app: Litestar, *, pages: bool = False) -> dict[str, HTTPRouteHandler]:
    """The API's GET routes; with `pages`, the web app's pages instead (their own test:
    tests/integration/web/test_page_routes.py)."""
    found = {}
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                is_page = bool(handler.opt.get(SIGNED_IN_BY_COOKIE))
                if "GET" in handler.http_methods and is_page == pages:
                    # As the request log and the access log name it: without the types.
                    found[re.sub(r":\w+}", "}", route.path)] = handler
    return found


async def test_every_get_route_is_access_logged_or_reads_no_goal_data(
    module_api: AsyncTestClient[Litestar],
) -> None:
    routes = get_routes(module_api.app)
    logged = {path for path, handler in routes.items() if handler.opt.get(ACCESS_LOGGED)}

    assert set(routes) - logged == set(FREE_OF_GOAL_DATA), (
        "a GET route must be access-logged (opt ACCESS_LOGGED) or named in FREE_OF_GOAL_DATA"
    )
    assert logged == set(_reads("g", UUID(int=0))), "give every logged route an example read"


async def _read_once(
    api: AsyncTestClient[Litestar], pool: asyncpg.Pool, url: str, headers: dict[str, str]
) -> tuple[httpx.Response, asyncpg.Record]:
    correlation_id = request_id()
    response = await api.get(url, headers={**headers, "X-Request-ID": correlation_id})
    records = await records_of(pool, correlation_id)
    assert len(records) == 1, (url, response.status_code, records)
    assert records[0]["status"] == response.status_code
    return response, records[0]


# Each case reads a goal of its own and finds its records by their request ids: the cases share
# the module's database, app and clinic (tests/integration/api/conftest.py).
@pytest.mark.parametrize("route", list(_reads("g", UUID(int=0))))
async def test_each_read_leaves_one_record_whatever_its_outcome(
    module_api: AsyncTestClient[Litestar],
    module_clinic: Clinic,
    module_pool: asyncpg.Pool,
    route: str,
) -> None:
    goal = (await set_goal(module_api, module_clinic))["goal_id"]
    await project_everything(module_pool)
    read = _reads(goal, module_clinic.client.id)[route]
    reader, refused = read.allowed(module_clinic), read.refused(module_clinic)

    answered, record = await _read_once(module_api, module_pool, read.url, reader.headers)
    assert answered.status_code == 200, answered.text
    assert record["route"] == route
    assert (record["user_id"], record["role"]) == (reader.id, reader.role)
    assert record["token_id"] is not None
    if "{" in route or "patient" in read.url:
        assert module_clinic.client.id in record["client_ids"]
    if "goal_id" in route:
        assert record["goal_ids"] == [UUID(goal)]
    assert record["recorded_at"] >= record["requested_at"]

    refusal, record = await _read_once(module_api, module_pool, read.url, refused.headers)
    assert refusal.status_code == read.refusal, refusal.text
    assert (record["user_id"], record["status"]) == (refused.id, read.refusal)

    _, record = await _read_once(
        module_api, module_pool, read.url, {"Authorization": "Bearer not-a-token"}
    )
    assert (record["user_id"], record["clinic_id"], record["status"]) == (None, None, 401)


async def test_reads_under_concurrent_load_each_leave_one_record_sharing_commits(
    served_api: httpx.AsyncClient,
    api: AsyncTestClient[Litestar],
    clinic: Clinic,
    pool: asyncpg.Pool,
) -> None:
    goal = (await set_goal(api, clinic))["goal_id"]
    await project_everything(pool)
    # Every logged route, the streamed ones (a record, an export) too.
    reads = list(_reads(goal, clinic.client.id).values())
    sent = [(reads[n % len(reads)], request_id()) for n in range(200)]

    async def read(item: tuple[Read, str]) -> int:
        spec, correlation_id = item
        headers = {**spec.allowed(clinic).headers, "X-Request-ID": correlation_id}
        return (await served_api.get(spec.url, headers=headers)).status_code

    statuses = await asyncio.gather(*(read(item) for item in sent))

    assert set(statuses) == {200}
    rows = await pool.fetch(
        "SELECT correlation_id, status, transaction_id::text AS tx FROM access_log "
        "WHERE correlation_id = ANY($1::text[])",
        [correlation_id for _, correlation_id in sent],
    )
    by_request: dict[str, list[Any]] = {}
    for row in rows:
        by_request.setdefault(row["correlation_id"], []).append(row["status"])
    assert by_request == {correlation_id: [200] for _, correlation_id in sent}
    # Group commit: the records of requests answered together went in one statement.
    assert len({row["tx"] for row in rows}) < len(sent)


async def test_a_path_postgresql_could_not_store_is_recorded_all_the_same(
    api: AsyncTestClient[Litestar], clinic: Clinic, pool: asyncpg.Pool
) -> None:
    response, record = await _read_once(
        api, pool, "/fhir/r4/Goal/a%00b%FF", clinic.therapist.headers
    )
    assert response.status_code == 404
    assert record["status"] == 404
    assert "\\x00" in record["path"]


async def test_a_read_whose_record_cannot_be_committed_is_not_answered(
    api: AsyncTestClient[Litestar], clinic: Clinic, admin_conn: asyncpg.Connection
) -> None:
    goal = (await set_goal(api, clinic))["goal_id"]
    await admin_conn.execute("REVOKE INSERT ON access_log FROM goals_app")

    refused = await api.get(f"/v1/goals/{goal}", headers=clinic.therapist.headers)

    assert refused.status_code == 503, refused.text
    assert refused.json()["code"] == "access_log_unavailable"
    assert "statement" not in refused.text
    assert refused.headers["retry-after"]


async def test_the_access_log_is_append_only_even_for_its_owner(
    api: AsyncTestClient[Litestar], clinic: Clinic, admin_conn: asyncpg.Connection
) -> None:
    await api.get("/v1/me/goals", headers=clinic.client.headers)
    await admin_conn.execute("SET ROLE goals_owner")

    for statement in ("UPDATE access_log SET status = 200", "DELETE FROM access_log"):
        with pytest.raises(asyncpg.RestrictViolationError):
            await admin_conn.execute(statement)
    assert await admin_conn.fetchval("SELECT count(*) FROM access_log") == 1
