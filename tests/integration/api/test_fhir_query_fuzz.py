"""The FHIR routes' query parameters and ids, generated the ways a hostile client would send
them: none answers 5xx, and every refusal is an OperationOutcome with a stable code."""

from typing import Any
from urllib.parse import quote

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar
from litestar.testing import AsyncTestClient

from domain.goals.fhir import FHIR_JSON
from services.api.pages import encode_cursor
from tests.integration.api.world import Clinic

FUZZED = settings(
    max_examples=60,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_TEXT = st.text(st.characters(codec="utf-8"), max_size=60)
# Past the edges of the database's integers as well as within them.
_INTEGERS = st.integers() | st.sampled_from([2**31, 2**63, 2**64, -(2**63) - 1])
# What a cursor may hold: any JSON, numbers of every size included.
_JSON: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | _INTEGERS | st.floats() | _TEXT,
    lambda inner: st.lists(inner, max_size=3),
    max_leaves=4,
)


def _patients(clinic: Clinic) -> st.SearchStrategy[str]:
    """Mostly the clinic's client, so that a search gets past its access check to the rest."""
    client = str(clinic.client.id)
    others = _TEXT | st.uuids().map(str) | st.just(str(clinic.therapist.id))
    return st.one_of(st.just(client), st.just(f"Patient/{client}"), others)


_CURSORS = st.one_of(
    _INTEGERS.map(encode_cursor),
    st.lists(_JSON, max_size=2).map(lambda key: encode_cursor(*key)),
    _TEXT,
)


def _assert_answered(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    assert response.headers["content-type"].startswith(FHIR_JSON), response.headers
    if response.status_code >= 400:
        (issue,) = response.json()["issue"]
        (coding,) = issue["details"]["coding"]
        assert coding["code"], response.text


@FUZZED
@given(data=st.data())
async def test_no_search_query_fails_the_fhir_search(
    api: AsyncTestClient[Litestar], clinic: Clinic, data: st.DataObject
) -> None:
    query: dict[str, str] = {}
    if data.draw(st.integers(0, 3), label="with patient") > 0:
        query["patient"] = data.draw(_patients(clinic), label="patient")
    if data.draw(st.booleans(), label="with count"):
        query["_count"] = data.draw(_INTEGERS.map(str) | _TEXT, label="count")
    if data.draw(st.integers(0, 3), label="with cursor") > 0:
        query["_cursor"] = data.draw(_CURSORS, label="cursor")

    response = await api.get("/fhir/r4/Goal", params=query, headers=clinic.therapist.headers)

    _assert_answered(response)


@FUZZED
@given(goal_id=_TEXT.filter(lambda text: text not in {"", ".", ".."}))
async def test_no_goal_id_fails_the_fhir_read(
    api: AsyncTestClient[Litestar], clinic: Clinic, goal_id: str
) -> None:
    response = await api.get(
        f"/fhir/r4/Goal/{quote(goal_id, safe='')}", headers=clinic.therapist.headers
    )

    _assert_answered(response)
