"""Every list is read a page at a time, with a page size the OpenAPI document caps."""

import uuid
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.integration.api.support import project_everything, set_goal
from tests.integration.api.world import Clinic

# Each list, the query parameter that sizes its page, and the cap the document states.
PAGE_SIZES = {
    "/v1/me/goals": ("limit", 100),
    "/v1/clients/{client_id}/goals": ("limit", 100),
    "/v1/caseload": ("limit", 200),
    "/v1/goals/{goal_id}/history": ("limit", 200),
    "/v1/goals/{goal_id}/progress": ("periods", 100),
    "/v1/clinic/stats": ("months", 120),
    "/v1/users": ("limit", 100),
    "/v1/users/{user_id}/tokens": ("limit", 100),
    "/v1/me/nudges": ("limit", 100),
    "/v1/audit/access-log": ("limit", 100),
    "/v1/audit/admin-actions": ("limit", 100),
    "/v1/me/access-log": ("limit", 100),
    "/v1/webhook-endpoints/{endpoint_id}/deliveries": ("limit", 100),
}


def _schema(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _is_a_list(document: dict[str, Any], operation: dict[str, Any]) -> bool:
    """A top-level array, or a page: an object carrying a cursor to the next one."""
    content = operation["responses"].get("200", {}).get("content", {})
    schema = _schema(document, content.get("application/json", {}).get("schema", {}))
    properties = schema.get("properties", {})
    return schema.get("type") == "array" or "next_cursor" in properties or "earlier" in properties


async def test_every_list_in_the_document_has_a_capped_page_size(
    module_api: AsyncTestClient[Litestar],
) -> None:
    document = (await module_api.get("/schema/openapi.json")).json()

    lists = {
        path
        for path, operations in document["paths"].items()
        if "get" in operations and _is_a_list(document, operations["get"])
    }
    assert lists <= set(PAGE_SIZES), lists - set(PAGE_SIZES)
    for path, (name, cap) in PAGE_SIZES.items():
        parameters = {p["name"]: p for p in document["paths"][path]["get"]["parameters"]}
        assert parameters[name]["schema"]["maximum"] == cap, path


# Refusals that write only goals of their own, which the next case does not list: the cases
# share the module's database, app and clinic (tests/integration/api/conftest.py).
@pytest.mark.parametrize(("path", "name_and_cap"), PAGE_SIZES.items(), ids=list(PAGE_SIZES))
async def test_a_page_over_the_cap_is_refused(
    module_api: AsyncTestClient[Litestar],
    module_clinic: Clinic,
    path: str,
    name_and_cap: tuple[str, int],
) -> None:
    goal_id = (await set_goal(module_api, module_clinic))["goal_id"]
    name, cap = name_and_cap
    caller = {
        "/v1/caseload": module_clinic.therapist,
        "/v1/clinic/stats": module_clinic.admin,
        "/v1/users": module_clinic.admin,
        "/v1/audit/access-log": module_clinic.auditor,
        "/v1/audit/admin-actions": module_clinic.auditor,
        "/v1/webhook-endpoints/{endpoint_id}/deliveries": module_clinic.admin,
    }.get(path, module_clinic.client)
    url = (
        path.replace("{goal_id}", goal_id)
        .replace("{client_id}", str(module_clinic.client.id))
        .replace("{user_id}", str(module_clinic.client.id))
        # The page size is checked before the endpoint is looked for.
        .replace("{endpoint_id}", str(uuid.uuid4()))
    )

    response = await module_api.get(url, params={name: cap + 1}, headers=caller.headers)

    assert response.status_code == 422, response.text
    assert [error["field"] for error in response.json()["errors"]] == [name]


async def test_goal_lists_and_history_come_a_page_at_a_time(
    api: AsyncTestClient[Litestar], clinic: Clinic, pool: asyncpg.Pool
) -> None:
    goal_ids = [(await set_goal(api, clinic))["goal_id"] for _ in range(3)]
    for _ in range(3):
        checked = await api.post(
            f"/v1/goals/{goal_ids[0]}/check-ins", headers=clinic.client.headers
        )
        assert checked.status_code == 200, checked.text
    await project_everything(pool)

    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await api.get("/v1/me/goals", params=params, headers=clinic.client.headers)).json()
        assert len(page["goals"]) <= 2
        seen += [goal["goal_id"] for goal in page["goals"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == goal_ids[::-1]

    history = f"/v1/goals/{goal_ids[0]}/history"
    first = (await api.get(history, params={"limit": 2}, headers=clinic.client.headers)).json()
    rest = await api.get(
        history, params={"after_version": first[-1]["version"]}, headers=clinic.client.headers
    )
    assert [entry["version"] for entry in first + rest.json()] == [1, 2, 3, 4]
