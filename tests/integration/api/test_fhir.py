"""The FHIR routes over HTTP on real PostgreSQL: the same access as the JSON API's goal reads,
refusals as OperationOutcomes, a goal's course as Goal resources, and the searchset's pages.
Every FHIR body a test receives is validated as R4B."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from domain.goals.fhir import FHIR_JSON
from domain.goals.record import goal_record
from infra.config import Settings
from infra.eventstore.store import read_stream
from infra.goals import codec
from infra.goals.fhir_reads import goal_records, stamp_of
from infra.goals.streams import goal_stream
from services.api.app import create_app
from services.api.fhir.outcomes import PROBLEM_CODES
from services.api.pages import encode_cursor
from tests.fhir_validation import validate_fhir
from tests.integration.api.support import project_everything, set_goal
from tests.integration.api.world import TOKEN_KEY, Clinic, Person
from tests.private_servers import PrivateRedis, private_redis

Api = AsyncTestClient[Litestar]
Json = dict[str, Any]


def fhir_body(response: httpx.Response, status: int = 200) -> Json:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(FHIR_JSON), response.headers
    return validate_fhir(response.json())


def outcome_issue(response: httpx.Response, status: int) -> Json:
    """The one issue of an OperationOutcome with this status."""
    outcome = fhir_body(response, status)
    assert outcome["resourceType"] == "OperationOutcome"
    (issue,) = outcome["issue"]
    return dict(issue)


def outcome_code(response: httpx.Response, status: int) -> str:
    """The stable code of an OperationOutcome with this status."""
    issue = outcome_issue(response, status)
    (coding,) = issue["details"]["coding"]
    assert coding["system"] == PROBLEM_CODES
    return str(coding["code"])


def callers(clinic: Clinic, other_clinic: Clinic) -> dict[str, Person | None]:
    return {
        "anonymous": None,
        "client": clinic.client,
        "therapist": clinic.therapist,
        "supporter": clinic.supporter,
        "admin": clinic.admin,
        "auditor": clinic.auditor,
        "integration": clinic.integration,
        "other_therapist": clinic.other_therapist,
        "other_clinic.admin": other_clinic.admin,
        "other_clinic.therapist": other_clinic.therapist,
        "other_clinic.integration": other_clinic.integration,
    }


async def _same_answer(api: Api, person: Person | None, json_path: str, fhir_path: str) -> Json:
    """The FHIR route answers this caller as the JSON route does; its body."""
    headers = person.headers if person else {}
    from_json, from_fhir = (
        await api.get(json_path, headers=headers),
        await api.get(fhir_path, headers=headers),
    )
    assert from_fhir.status_code == from_json.status_code, (person, from_fhir.text)
    if from_json.status_code != 200:
        assert outcome_code(from_fhir, from_json.status_code) == from_json.json()["code"]
        if from_json.status_code == 401:
            assert from_fhir.headers["www-authenticate"] == from_json.headers["www-authenticate"]
        return {}
    return fhir_body(from_fhir)


async def test_a_goal_reads_as_the_api_allows_each_caller(
    api: Api, clinic: Clinic, other_clinic: Clinic
) -> None:
    goal_id = (await set_goal(api, clinic))["goal_id"]
    shared = await api.post(
        f"/v1/goals/{goal_id}/supporters/{clinic.supporter.id}", headers=clinic.client.headers
    )
    assert shared.status_code == 200, shared.text
    views = {}
    for name, person in callers(clinic, other_clinic).items():
        body = await _same_answer(api, person, f"/v1/goals/{goal_id}", f"/fhir/r4/Goal/{goal_id}")
        views[name] = "none" if not body else body["subject"].get("reference", "shared")
    patient = f"Patient/{clinic.client.id}"
    assert views == {
        "anonymous": "none",
        "client": patient,
        "therapist": patient,
        "supporter": "shared",
        "admin": "none",
        "auditor": "none",
        "integration": patient,
        "other_therapist": "none",
        "other_clinic.admin": "none",
        "other_clinic.therapist": "none",
        "other_clinic.integration": "none",
    }


async def test_unknown_and_malformed_ids_are_not_found(api: Api, clinic: Clinic) -> None:
    goal_id = (await set_goal(api, clinic))["goal_id"]
    headers = clinic.therapist.headers
    for wrong in (uuid4(), "not-a-goal", str(goal_id).replace("-", ""), f"urn:uuid:{goal_id}"):
        response = await api.get(f"/fhir/r4/Goal/{wrong}", headers=headers)
        assert outcome_code(response, 404) == "not_found"
    upper = await api.get(f"/fhir/r4/Goal/{str(goal_id).upper()}", headers=headers)
    assert fhir_body(upper)["id"] == goal_id


async def test_a_request_refused_before_any_fhir_route_is_an_operation_outcome(
    api: Api, clinic: Clinic
) -> None:
    goal_id = (await set_goal(api, clinic))["goal_id"]
    headers = clinic.therapist.headers
    bad_host = await api.get(f"/fhir/r4/Goal/{goal_id}", headers={**headers, "host": "a b"})
    assert outcome_code(bad_host, 400) == "bad_request"
    unknown = await api.get("/fhir/r4/Patient", headers=headers)
    assert outcome_code(unknown, 404) == "not_found"
    json_route = await api.get("/v1/me/goals", headers={**headers, "host": "a b"})
    assert json_route.status_code == 400
    assert json_route.headers["content-type"] == "application/problem+json"


async def test_a_goals_course_shows_in_its_resource(api: Api, clinic: Clinic) -> None:
    goal_id = (await set_goal(api, clinic))["goal_id"]
    headers = clinic.therapist.headers
    path = f"/fhir/r4/Goal/{goal_id}"
    first = await api.get(path, headers=headers)
    goal = fhir_body(first)
    assert (goal["lifecycleStatus"], goal["meta"]["versionId"]) == ("active", "1")
    assert first.headers["etag"] == 'W/"1"'
    assert goal["expressedBy"] == {
        "reference": f"Practitioner/{clinic.therapist.id}",
        "type": "Practitioner",
    }
    steps: list[tuple[str, Json, str, str | None]] = [
        ("check-ins", {"amount": 1}, "active", None),
        ("pause", {"reason": "A week in hospital"}, "on-hold", "A week in hospital"),
        ("resume", {}, "active", None),
        ("miss", {"cause": "obstacles", "reflection": "Winter came early"}, "completed", None),
    ]
    for version, (action, body, lifecycle, reason) in enumerate(steps, start=2):
        done = await api.post(f"/v1/goals/{goal_id}/{action}", json=body, headers=headers)
        assert done.status_code == 200, done.text
        goal = fhir_body(await api.get(path, headers=headers))
        assert goal["lifecycleStatus"] == lifecycle
        assert goal["meta"]["versionId"] == str(version)
        if reason is not None:
            assert goal["statusReason"] == reason
    assert goal["achievementStatus"]["coding"][0]["code"] == "not-achieved"
    assert {"text": "Reflection: Winter came early"} in goal["note"]


async def test_a_record_read_from_few_envelopes_is_that_of_the_whole_stream(
    api: Api, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    goal_id = UUID((await set_goal(api, clinic))["goal_id"])
    headers = clinic.client.headers
    for action, body in [
        ("check-ins", {"amount": 1}),
        ("pause", {"reason": "Away"}),
        ("adjustments", {"changes": {"cue": None}, "reason": "No cue while away"}),
        ("resume", {}),
        ("check-ins", {"amount": 2}),
        ("adjustments", {"changes": {"priority": "low"}, "reason": "Less at once"}),
    ]:
        done = await api.post(f"/v1/goals/{goal_id}/{action}", json=body, headers=headers)
        assert done.status_code == 200, done.text
    async with pool.acquire() as conn:
        stream = await read_stream(conn, goal_stream(goal_id))
        for upto in range(1, len(stream) + 1):
            whole = goal_record(
                (codec.decode_event(event), stamp_of(event)) for event in stream[:upto]
            )
            assert await goal_records(conn, {goal_id: upto}) == {goal_id: whole}


async def test_a_patients_goals_search_as_the_api_lists_them(
    api: Api, clinic: Clinic, other_clinic: Clinic, pool: asyncpg.Pool
) -> None:
    goal_id = (await set_goal(api, clinic))["goal_id"]
    client_id = clinic.client.id
    await project_everything(pool)
    found = {}
    for name, person in callers(clinic, other_clinic).items():
        body = await _same_answer(
            api, person, f"/v1/clients/{client_id}/goals", f"/fhir/r4/Goal?patient={client_id}"
        )
        found[name] = [entry["resource"]["id"] for entry in body.get("entry", [])]
    assert {name for name, ids in found.items() if ids == [goal_id]} == {
        "client",
        "therapist",
        "integration",
    }
    # The goal's trend is the one the JSON list gives.
    headers = clinic.therapist.headers
    (listed,) = (await api.get(f"/v1/clients/{client_id}/goals", headers=headers)).json()["goals"]
    bundle = fhir_body(await api.get(f"/fhir/r4/Goal?patient={client_id}", headers=headers))
    (coding,) = bundle["entry"][0]["resource"]["achievementStatus"]["coding"]
    assert coding["code"] == listed["achievement_status"]
    # Another clinic's client is as unknown as one that does not exist.
    for patient in (other_clinic.client.id, uuid4()):
        response = await api.get(
            f"/fhir/r4/Goal?patient={patient}", headers=clinic.integration.headers
        )
        assert outcome_code(response, 404) == "not_found"


async def test_the_searchset_pages_through_every_goal_once(api: Api, clinic: Clinic) -> None:
    set_ids = [
        (await set_goal(api, clinic, statement=f"Goal number {n}"))["goal_id"] for n in range(5)
    ]
    headers = clinic.therapist.headers
    url: str | None = f"/fhir/r4/Goal?patient=Patient/{clinic.client.id}&_count=2"
    pages = []
    while url is not None:
        bundle = fhir_body(await api.get(url, headers=headers))
        assert bundle["total"] == 5
        pages.append([entry["resource"]["id"] for entry in bundle.get("entry", [])])
        links = {link["relation"]: link["url"] for link in bundle["link"]}
        url = links.get("next")
    assert pages == [set_ids[0:2], set_ids[2:4], set_ids[4:5]]
    one = await api.get(f"/fhir/r4/Goal/{set_ids[0]}", headers=headers)
    first_page = fhir_body(
        await api.get(f"/fhir/r4/Goal?patient={clinic.client.id}&_count=1", headers=headers)
    )
    assert first_page["entry"][0]["resource"] == fhir_body(one)
    assert first_page["entry"][0]["fullUrl"].endswith(f"/fhir/r4/Goal/{set_ids[0]}")


async def test_the_searchsets_page_size_is_bounded(api: Api, clinic: Clinic) -> None:
    await set_goal(api, clinic)
    headers = clinic.therapist.headers
    search = f"/fhir/r4/Goal?patient={clinic.client.id}"
    counted = fhir_body(await api.get(f"{search}&_count=0", headers=headers))
    assert (counted["total"], "entry" in counted) == (1, False)
    capped = fhir_body(await api.get(f"{search}&_count=100000", headers=headers))
    assert "_count=100" in capped["link"][0]["url"]
    assert len(capped["entry"]) == 1
    default = fhir_body(await api.get(search, headers=headers))
    assert "_count=20" in default["link"][0]["url"]
    for query, status, code in [
        ("&_count=-1", 422, "invalid_input"),
        ("&_count=many", 422, "invalid_input"),
        ("&_cursor=not-ours", 400, "invalid_cursor"),
        # Positions beyond a bigint's range, either way, and a position as text.
        (f"&_cursor={encode_cursor(2**63)}", 400, "invalid_cursor"),
        (f"&_cursor={encode_cursor(-(2**63) - 1)}", 400, "invalid_cursor"),
        (f"&_cursor={encode_cursor('5')}", 400, "invalid_cursor"),
    ]:
        response = await api.get(search + query, headers=headers)
        assert outcome_code(response, status) == code
    not_ours = await api.get(f"{search}&_cursor=not-ours", headers=headers)
    assert outcome_issue(not_ours, 400)["diagnostics"].startswith("_cursor: ")
    missing = await api.get("/fhir/r4/Goal", headers=headers)
    assert outcome_code(missing, 400) == "patient_required"
    # Only the forms the search names: not every spelling Python's UUID would read.
    client_id = clinic.client.id
    for patient in ["Patient/someone", f"{{{client_id}}}", f"urn:uuid:{client_id}", client_id.hex]:
        malformed = await api.get("/fhir/r4/Goal", params={"patient": patient}, headers=headers)
        assert outcome_code(malformed, 400) == "invalid_patient", patient
    upper = await api.get(
        f"/fhir/r4/Goal?patient=Patient/{str(client_id).upper()}", headers=headers
    )
    assert fhir_body(upper)["total"] == 1


async def test_the_capability_statement_says_what_is_served(api: Api) -> None:
    statement = fhir_body(await api.get("/fhir/r4/metadata"))
    (rest,) = statement["rest"]
    (goal,) = rest["resource"]
    assert goal["type"] == "Goal"
    assert {item["code"] for item in goal["interaction"]} == {"read", "search-type"}
    schema = (await api.get("/schema/openapi.json")).json()
    assert {"/fhir/r4/Goal", "/fhir/r4/Goal/{goal_id}", "/fhir/r4/metadata"} <= set(schema["paths"])


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    with private_redis(tmp_path / "redis.log") as server:
        yield server


async def test_a_caller_over_the_rate_limit_is_told_so_in_fhir(
    database_url: str, redis: PrivateRedis, clinic: Clinic
) -> None:
    limit = 2
    settings = Settings(
        database_url=database_url,
        redis_url=redis.url,
        token_hash_key=TOKEN_KEY,
        log_format="json",
        rate_limit_requests=limit,
        rate_limit_window="minute",
    )
    search = f"/fhir/r4/Goal?patient={clinic.client.id}"
    async with AsyncTestClient(create_app(settings)) as limited:
        for _ in range(limit):
            fhir_body(await limited.get(search, headers=clinic.client.headers))
        refused = await limited.get(search, headers=clinic.client.headers)
    assert outcome_code(refused, 429) == "rate_limited"
    assert int(refused.headers["retry-after"]) >= 1
