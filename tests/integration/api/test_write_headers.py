"""The headers writes read and answer with are in the OpenAPI document, and a replay under an
Idempotency-Key answers exactly what the first reply did, its ETag included."""

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.integration.api.support import set_goal
from tests.integration.api.world import Clinic, goal_body


# The cases read the OpenAPI document, or write goals of their own: they share the module's
# database and app (tests/integration/api/conftest.py).
@pytest.fixture(scope="module")
def api(module_api: AsyncTestClient[Litestar]) -> AsyncTestClient[Litestar]:
    return module_api


@pytest.fixture(scope="module")
def clinic(module_clinic: Clinic) -> Clinic:
    return module_clinic


_ON_A_GOAL = ({"If-Match", "Idempotency-Key"}, {"ETag", "Idempotent-Replayed"})
DOCUMENTED_HEADERS: dict[tuple[str, str], tuple[set[str], set[str]]] = {
    ("post", "/v1/goals"): ({"Idempotency-Key"}, {"ETag", "Idempotent-Replayed"}),
    ("get", "/v1/goals/{goal_id}"): (set(), {"ETag"}),
    **{
        ("post", f"/v1/goals/{{goal_id}}/{action}"): _ON_A_GOAL
        for action in (
            "adjustments",
            "check-ins",
            "achievement",
            "miss",
            "pause",
            "resume",
            "cancel",
            "corrections",
            "ratings",
            "supporters/{user_id}",
        )
    },
    ("delete", "/v1/goals/{goal_id}/supporters/{user_id}"): _ON_A_GOAL,
    **{
        write: ({"Idempotency-Key"}, {"Idempotent-Replayed"})
        for write in (
            ("post", "/v1/users"),
            ("patch", "/v1/users/{user_id}"),
            ("post", "/v1/users/{user_id}/deactivation"),
            ("post", "/v1/users/{user_id}/invitations"),
            ("post", "/v1/users/{user_id}/tokens"),
            ("delete", "/v1/users/{user_id}/tokens"),
            ("delete", "/v1/tokens/{token_id}"),
            ("put", "/v1/clinic/settings"),
            ("put", "/v1/clients/{client_id}/therapists/{therapist_id}"),
            ("delete", "/v1/clients/{client_id}/therapists/{therapist_id}"),
            ("post", "/v1/webhook-endpoints"),
            ("patch", "/v1/webhook-endpoints/{endpoint_id}"),
            ("delete", "/v1/webhook-endpoints/{endpoint_id}"),
            ("post", "/v1/webhook-endpoints/{endpoint_id}/disable"),
            ("post", "/v1/webhook-endpoints/{endpoint_id}/enable"),
            ("post", "/v1/webhook-endpoints/{endpoint_id}/rotate-secret"),
            ("post", "/v1/webhook-endpoints/{endpoint_id}/replay"),
            ("post", "/v1/webhook-deliveries/{delivery_id}/retry"),
            ("post", "/v1/goals/{goal_id}/encouragements"),
        )
    },
    # The same request again leaves what the first left: preferences set to the same values, a
    # nudge already read, e-mail already off.
    ("put", "/v1/me/notification-preferences"): (set(), set()),
    ("post", "/v1/me/nudges/{nudge_id}/read"): (set(), set()),
    ("post", "/v1/unsubscribe/{token}"): (set(), set()),
    # No caller to key a retry by (docs/api.md#invitations-tokens-and-revocation).
    ("post", "/v1/invitations/redemption"): (set(), set()),
}


@pytest.mark.parametrize(
    ("method", "path"), DOCUMENTED_HEADERS, ids=[" ".join(key) for key in DOCUMENTED_HEADERS]
)
async def test_the_openapi_document_names_the_headers_of_each_write(
    api: AsyncTestClient[Litestar], method: str, path: str
) -> None:
    document = (await api.get("/schema/openapi.json")).json()
    operation = document["paths"][path][method]
    reads, answers = DOCUMENTED_HEADERS[method, path]

    headers = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "header"}
    assert set(headers) == reads
    assert all(header["description"] and not header["required"] for header in headers.values())
    for status, response in operation["responses"].items():
        if status.startswith("2"):
            assert set(response.get("headers", {})) == answers, status


async def test_every_write_is_described(api: AsyncTestClient[Litestar]) -> None:
    document = (await api.get("/schema/openapi.json")).json()
    writes = {
        (method, path)
        for path, operations in document["paths"].items()
        for method in operations
        if method in {"post", "put", "patch", "delete"}
    }

    assert writes <= set(DOCUMENTED_HEADERS)


async def _twice(api: AsyncTestClient[Litestar], path: str, body: Any, headers: Any) -> Any:
    keyed = {**headers, "Idempotency-Key": f"twice {path}"}
    first = await api.post(path, json=body, headers=keyed)
    assert first.status_code in (200, 201), first.text
    return first, await api.post(path, json=body, headers=keyed)


async def test_a_replayed_goal_keeps_its_etag(
    api: AsyncTestClient[Litestar], clinic: Clinic
) -> None:
    body = goal_body(client_id=str(clinic.client.id))

    first, again = await _twice(api, "/v1/goals", body, clinic.therapist.headers)

    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["etag"] == first.headers["etag"] == '"1"'
    assert (again.status_code, again.content) == (first.status_code, first.content)


async def test_a_replayed_goal_action_keeps_its_etag(
    api: AsyncTestClient[Litestar], clinic: Clinic
) -> None:
    goal_id = (await set_goal(api, clinic))["goal_id"]
    path = f"/v1/goals/{goal_id}/pause"

    first, again = await _twice(api, path, {"reason": "A busy month"}, clinic.therapist.headers)

    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["etag"] == first.headers["etag"] == '"2"'
    assert (again.status_code, again.content) == (first.status_code, first.content)
