"""Clinics are kept apart twice: by the queries, which find a goal's client only within the
caller's clinic, and by the access policy, which refuses a caller of another clinic than the
client's. Here the queries' clinic condition is taken out, as a faulty query would leave it, and
the policy alone must still refuse every caller of the other clinic, writing nothing."""

from uuid import UUID

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from infra.access import queries
from infra.access.tokens import hash_token
from infra.db.connection import Connection
from infra.goals import check_ins_at_once, request_read
from infra.goals.request_read import RequestKey, read_for_request
from tests.integration.api.access_matrix import NOTHING_WRITTEN, footprint
from tests.integration.api.support import assert_problem, set_goal
from tests.integration.api.world import TOKEN_KEY, Clinic, goal_body

_SAME_CLINIC = "c.clinic_id = h.clinic_id AND "

# A client of any clinic, with their clinic and care team: `care_of_client` without its clinic.
_CARE_OF_ANY_CLIENT = """
SELECT u.clinic_id, array(SELECT therapist_id FROM care_team WHERE client_id = u.id) AS therapists
FROM users u WHERE u.id = $1 AND u.role = 'client'
"""


async def _care_of_any_client(
    conn: Connection, clinic_id: UUID, client_id: UUID
) -> queries.ClientCare | None:
    row = await conn.fetchrow(_CARE_OF_ANY_CLIENT, client_id)
    return None if row is None else queries.ClientCare(row[0], frozenset(row[1]))


@pytest.fixture
def clinics_unchecked_by_queries(monkeypatch: pytest.MonkeyPatch) -> None:
    for module, name in [
        (request_read, "_READ"),
        (check_ins_at_once, "_READ_AND_APPEND"),
    ]:
        query: str = getattr(module, name)
        assert _SAME_CLINIC in query
        monkeypatch.setattr(module, name, query.replace(_SAME_CLINIC, ""))
    monkeypatch.setattr(queries, "care_of_client", _care_of_any_client)


async def test_the_policy_refuses_another_clinics_callers_when_the_queries_do_not(
    api: AsyncTestClient[Litestar],
    pool: asyncpg.Pool,
    clinic: Clinic,
    other_clinic: Clinic,
    conn: Connection,
    clinics_unchecked_by_queries: None,
) -> None:
    goal_id = UUID((await set_goal(api, clinic))["goal_id"])
    assert (await api.get(f"/v1/goals/{goal_id}", headers=clinic.client.headers)).is_success
    requests = [
        ("GET", f"/v1/goals/{goal_id}", None),
        ("GET", f"/v1/goals/{goal_id}/history", None),
        ("GET", f"/v1/clients/{clinic.client.id}/goals", None),
        ("POST", f"/v1/goals/{goal_id}/check-ins", {"amount": 1}),
        ("POST", f"/v1/goals/{goal_id}/pause", {"reason": "Away"}),
        ("POST", "/v1/goals", goal_body(client_id=str(clinic.client.id))),
    ]
    others = [
        other_clinic.admin,
        other_clinic.therapist,
        other_clinic.client,
        other_clinic.supporter,
        other_clinic.auditor,
        other_clinic.integration,
    ]
    # The queries now find the goal's client for a caller of the other clinic.
    auditor_read = await read_for_request(
        conn, RequestKey(hash_token(other_clinic.auditor.token, TOKEN_KEY), goal_id, 0)
    )
    assert auditor_read.client is not None
    assert auditor_read.client.client_id == clinic.client.id

    before = await footprint(pool)
    for person in others:
        # Twice: the second time the process has seen the caller, as a one-trip check-in needs.
        for method, path, body in requests * 2:
            response = await api.request(method, path, json=body, headers=person.headers)
            assert_problem(response, 404, "not_found")
    assert await footprint(pool) - before == NOTHING_WRITTEN
