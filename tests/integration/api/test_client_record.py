"""A client's record over HTTP on real PostgreSQL: every goal, event and check-in, as JSON and as
a FHIR Bundle with Provenance (validated as R4B), for the client, their therapist and an
auditor; refused to everyone else."""

from typing import Any
from uuid import uuid4

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from domain.goals.fhir import FHIR_JSON
from tests.fhir_validation import validate_fhir
from tests.integration.api.support import assert_problem, set_goal
from tests.integration.api.world import Clinic, goal_body

Api = AsyncTestClient[Litestar]


async def _two_goals_with_a_correction(api: Api, clinic: Clinic) -> dict[str, Any]:
    """Two goals of the client, the first with two check-ins of which one is corrected; the
    other client has a goal too, which must stay out of the record."""
    first = (await set_goal(api, clinic))["goal_id"]
    second = (await set_goal(api, clinic, statement="Read before bed"))["goal_id"]
    # More check-ins than a goal's read shows: the record holds them all.
    check_ins = [str(uuid4()) for _ in range(12)]
    for check_in_id in check_ins:
        body = {"amount": 2, "check_in_id": check_in_id, "note": "Around the park"}
        checked = await api.post(
            f"/v1/goals/{first}/check-ins", json=body, headers=clinic.client.headers
        )
        assert checked.status_code == 200, checked.text
    corrected = await api.post(
        f"/v1/goals/{first}/corrections",
        json={"scope": "check_in", "check_in_id": check_ins[0], "reason": "Entered twice"},
        headers=clinic.therapist.headers,
    )
    assert corrected.status_code == 200, corrected.text
    other = await api.post("/v1/goals", json=goal_body(), headers=clinic.other_client.headers)
    assert other.status_code == 201, other.text
    return {"goals": [first, second], "check_ins": check_ins, "other": other.json()["goal_id"]}


@pytest.mark.parametrize("role", ["client", "therapist", "auditor"])
async def test_the_record_as_json_holds_every_goal_event_and_check_in(
    api: Api, clinic: Clinic, role: str
) -> None:
    made = await _two_goals_with_a_correction(api, clinic)

    answer = await api.get(
        f"/v1/clients/{clinic.client.id}/record", headers=getattr(clinic, role).headers
    )

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    record = answer.json()
    assert record["client_id"] == str(clinic.client.id)
    goals = record["goals"]
    assert [goal["goal"]["goal_id"] for goal in goals] == made["goals"]
    assert made["other"] not in answer.text
    first = goals[0]
    assert first["goal"]["client_id"] == str(clinic.client.id)
    assert [c["check_in_id"] for c in first["check_ins"]] == made["check_ins"]
    assert [c["entered_in_error"] for c in first["check_ins"]] == [True] + [False] * 11
    assert [event["type"] for event in first["events"]] == [
        "goal_set",
        *["progress_recorded"] * 12,
        "correction_recorded",
    ]
    assert first["events"][1]["corrected_by"]["reason"] == "Entered twice"
    # What the goal's own read and history say, the record says.
    read = await api.get(f"/v1/goals/{made['goals'][0]}", headers=clinic.therapist.headers)
    assert first["goal"] == read.json()
    history = await api.get(
        f"/v1/goals/{made['goals'][0]}/history", headers=clinic.therapist.headers
    )
    assert first["events"] == history.json()


@pytest.mark.parametrize(
    "ask", [{"headers": {"Accept": FHIR_JSON}}, {"params": {"_format": "fhir+json"}}]
)
async def test_the_record_as_fhir_is_a_bundle_with_provenance(
    api: Api, clinic: Clinic, ask: dict[str, Any]
) -> None:
    made = await _two_goals_with_a_correction(api, clinic)
    headers = {**clinic.client.headers, **ask.get("headers", {})}

    answer = await api.get(
        f"/v1/clients/{clinic.client.id}/record", headers=headers, params=ask.get("params")
    )

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith(FHIR_JSON)
    bundle = answer.json()
    assert bundle["resourceType"] == "Bundle"
    assert bundle["type"] == "collection"
    validate_fhir(bundle)
    resources = [entry["resource"] for entry in bundle["entry"]]
    kinds = [(r["resourceType"], r["id"]) for r in resources]
    assert [id_ for kind, id_ in kinds if kind == "Goal"] == made["goals"]
    provenances = [r for r in resources if r["resourceType"] == "Provenance"]
    assert len(provenances) == 14 + 1
    first = made["goals"][0]
    assert [p["target"][0]["reference"] for p in provenances[:14]] == [
        f"Goal/{first}/_history/{version}" for version in range(1, 15)
    ]
    correction = provenances[13]
    assert correction["activity"]["text"] == "correction_recorded"
    assert correction["reason"] == [{"text": "Entered twice"}]
    assert correction["agent"][0]["who"]["reference"] == f"Practitioner/{clinic.therapist.id}"
    observations = [r for r in resources if r["resourceType"] == "Observation"]
    assert [(o["id"], o["status"]) for o in observations] == [
        (made["check_ins"][0], "entered-in-error"),
        *[(check_in, "final") for check_in in made["check_ins"][1:]],
    ]
    assert made["other"] not in answer.text


# The refusals below write only goals of their own, which no refusal depends on: they share
# the module's database, app and clinics (tests/integration/api/conftest.py).
@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("supporter", 404),
        ("admin", 404),
        ("other_therapist", 404),
        ("other_client", 404),
        ("integration", 403),
    ],
)
async def test_everyone_else_is_refused_the_record(
    module_api: Api, module_clinic: Clinic, role: str, status: int
) -> None:
    goal = await set_goal(module_api, module_clinic)
    shared = await module_api.post(
        f"/v1/goals/{goal['goal_id']}/supporters/{module_clinic.supporter.id}",
        headers=module_clinic.client.headers,
    )
    assert shared.status_code == 200, shared.text
    answer = await module_api.get(
        f"/v1/clients/{module_clinic.client.id}/record",
        headers=getattr(module_clinic, role).headers,
    )
    assert_problem(answer, status, "not_found" if status == 404 else "forbidden")


@pytest.mark.parametrize("role", ["admin", "auditor", "therapist", "client"])
async def test_another_clinic_never_sees_that_the_client_exists(
    module_api: Api, module_clinic: Clinic, module_other_clinic: Clinic, role: str
) -> None:
    await set_goal(module_api, module_clinic)
    answer = await module_api.get(
        f"/v1/clients/{module_clinic.client.id}/record",
        headers=getattr(module_other_clinic, role).headers,
    )
    assert_problem(answer, 404, "not_found")


async def test_an_unknown_format_is_refused(module_api: Api, module_clinic: Clinic) -> None:
    answer = await module_api.get(
        f"/v1/clients/{module_clinic.client.id}/record",
        params={"_format": "xml"},
        headers=module_clinic.client.headers,
    )
    assert_problem(answer, 400, "invalid_format")
