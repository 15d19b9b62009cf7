"""The OpenAPI document is a contract: generated requests, sent with real tokens, never make the
app fail, and every answer is one the document declares, with the body it declares."""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from litestar import Litestar
from litestar.testing import AsyncTestClient
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.python import asgi
from schemathesis.schemas import BaseSchema
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from infra.config import Settings
from services.api.app import create_app
from tests.integration.api.support import set_goal
from tests.integration.api.world import TOKEN_KEY, Clinic, Person, goal_body

# docs/api.md's 21 operations under /v1, and the two health checks.
_PROMISED_OPERATIONS = 23

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@dataclass(frozen=True)
class ContractWorld:
    """Who calls, ids that exist, and bodies the rules accept, so that requests reach more
    than a 404 or a refusal."""

    callers: tuple[Person, ...]
    known_ids: dict[str, UUID]
    valid_bodies: dict[str, dict[str, Any]]


@pytest.fixture
async def contract_world(api: AsyncTestClient[Litestar], clinic: Clinic) -> ContractWorld:
    goal_id = UUID((await set_goal(api, clinic))["goal_id"])
    checked = await api.post(
        f"/v1/goals/{goal_id}/check-ins", json={"amount": 1}, headers=clinic.client.headers
    )
    assert checked.status_code == 200, checked.text
    # A token of its own to revoke, so that revoking it leaves the callers' tokens working.
    spare = await api.post(
        f"/v1/users/{clinic.client.id}/tokens", json={}, headers=clinic.client.headers
    )
    assert spare.status_code == 201, spare.text
    return ContractWorld(
        callers=(clinic.client, clinic.therapist),
        known_ids={
            "goal_id": goal_id,
            "client_id": clinic.client.id,
            "therapist_id": clinic.therapist.id,
            "user_id": clinic.supporter.id,
            "token_id": UUID(spare.json()["token_id"]),
        },
        valid_bodies={
            "POST /v1/goals": goal_body(client_id=str(clinic.client.id)),
            "POST /v1/goals/{goal_id}/check-ins": {"amount": 1, "note": "walked"},
            "POST /v1/goals/{goal_id}/adjustments": {
                "changes": {"priority": "low"},
                "reason": "Other things come first this month",
            },
        },
    )


@pytest.fixture
def openapi_schema(database_url: str) -> Iterator[BaseSchema]:
    """The document as the running app serves it; the app runs until the test ends."""
    app = create_app(
        # Limits are their own tests' subject; here one caller sends hundreds of requests.
        Settings(
            database_url=database_url,
            token_hash_key=TOKEN_KEY,
            log_format="json",
            rate_limit_requests=0,
        )
    )
    try:
        yield schemathesis.openapi.from_asgi("/schema/openapi.json", app)
    finally:
        # The app's lifespan (and its database pool) would otherwise outlive the database.
        asgi.shutdown_lifespans()


def _known_path_parameters(operation: APIOperation, world: ContractWorld) -> dict[str, str]:
    names = re.findall(r"\{(\w+)\}", operation.path)
    known = {**world.known_ids}
    if "/supporters/" not in operation.path:
        known["user_id"] = world.known_ids["client_id"]
    return {name: str(known[name]) for name in names if name in known}


def _cases(operation: APIOperation, world: ContractWorld) -> st.SearchStrategy[Case]:
    """Valid requests on generated ids and on ids that exist, and requests that break the
    document's own rules (which must be refused, never fail)."""
    strategies = [
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    ]
    known = _known_path_parameters(operation, world)
    if known:
        strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=known))
    body = world.valid_bodies.get(operation.label)
    if body is not None:
        strategies.append(
            operation.as_strategy(GenerationMode.POSITIVE, path_parameters=known, body=body)
        )
    return st.one_of(strategies)


def _check(operation: APIOperation, world: ContractWorld) -> None:
    @given(case=_cases(operation, world))
    @settings(
        max_examples=25,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def each_case(case: Case) -> None:
        for caller in world.callers:
            case.call_and_validate(headers=caller.headers, checks=CHECKS)

    each_case()


def test_every_operation_keeps_to_the_documented_contract(
    openapi_schema: BaseSchema, contract_world: ContractWorld
) -> None:
    # One test walks the operations itself: schemathesis' pytest plugin for fixture-provided
    # schemas reads `request.node._nodeid`, which pytest 9 no longer has.
    operations = []
    for result in openapi_schema.get_all_operations():
        assert isinstance(result, Ok), result
        operations.append(result.ok())
    assert len(operations) >= _PROMISED_OPERATIONS
    failures = {}
    for operation in operations:
        try:
            _check(operation, contract_world)
        # Every operation is checked before the test fails; check failures come as a group.
        except (Exception, FailureGroup) as failure:
            failures[operation.label] = failure
    assert not failures, "\n\n".join(
        f"== {label}\n{failure}" for label, failure in failures.items()
    )
