"""Every write, sent bodies generated from its declared type and mutated the ways a hostile
client would: none answers 5xx, every refusal is problem details with a stable code, and a
refused request writes nothing to any table."""

import re
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient

from infra.config import Settings
from infra.webhooks.addresses import Address, AddressGuard
from services.api.app import create_app
from services.api.auth import SIGNED_IN_BY_COOKIE
from tests.integration.api.hostile_bodies import bodies
from tests.integration.api.support import row_counts, set_goal
from tests.integration.api.world import TOKEN_KEY, Clinic, Person

_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _write_operations() -> dict[str, tuple[str, str, Any]]:
    """`METHOD path` of every write the API serves, with its declared body type. The web app's
    forms answer pages, not problem details: tests/integration/web/test_hostile_forms.py."""
    app = create_app(Settings(database_url="postgresql://unused/unused", token_hash_key=TOKEN_KEY))
    found: dict[str, tuple[str, str, Any]] = {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if handler.opt.get(SIGNED_IN_BY_COOKIE):
                continue
            for method in handler.http_methods & _WRITES:
                data = handler.parsed_data_field
                found[f"{method} {route.path_format}"] = (
                    method,
                    route.path_format,
                    None if data is None else data.annotation,
                )
    return found


OPERATIONS = _write_operations()


def _caller(clinic: Clinic, path: str) -> Person:
    if path.startswith(("/v1/users", "/v1/clients", "/v1/tokens", "/v1/webhook-")):
        return clinic.admin
    if path.endswith(("/check-ins", "/miss", "/achievement", "/supporters/{user_id}")):
        return clinic.client
    return clinic.therapist


async def _path(api: AsyncTestClient[Litestar], clinic: Clinic, template: str) -> str:
    ids: dict[str, Any] = {
        "client_id": clinic.client.id,
        "therapist_id": clinic.therapist.id,
        "user_id": clinic.supporter.id if "/supporters/" in template else clinic.client.id,
        "token_id": uuid4(),
        "nudge_id": uuid4(),
        "token": "not-an-unsubscribe-token",
        "endpoint_id": uuid4(),
        "delivery_id": uuid4(),
    }
    if "{goal_id}" in template:
        ids["goal_id"] = (await set_goal(api, clinic))["goal_id"]
    return re.sub(r"\{(\w+)\}", lambda name: str(ids[name.group(1)]), template)


async def _knows_no_name(host: str, port: int) -> list[Address]:
    raise OSError("no such host")


def test_every_write_is_covered() -> None:
    """A new write route must be fuzzed too: this list grows with the app."""
    assert len(OPERATIONS) >= 17


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
@settings(
    max_examples=10,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_no_hostile_body_fails_a_write_or_writes_when_refused(
    api: AsyncTestClient[Litestar],
    clinic: Clinic,
    pool: asyncpg.Pool,
    operation: str,
    data: st.DataObject,
) -> None:
    method, template, body_type = OPERATIONS[operation]
    # A webhook URL's host is looked up by a resolver that knows no name: nothing leaves the
    # machine, and every URL with a name is refused as unresolvable.
    api.app.state.webhook_guard = AddressGuard(resolver=_knows_no_name)
    known_ids: list[UUID] = [clinic.client.id, clinic.therapist.id, clinic.supporter.id]
    path = await _path(api, clinic, template)
    body = data.draw(bodies(body_type, known_ids), label="body")
    before = await row_counts(pool)

    response = await api.request(
        method,
        path,
        content=body,
        headers={**_caller(clinic, template).headers, "Content-Type": "application/json"},
    )

    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"], response.text
        assert await row_counts(pool) == before, response.text
