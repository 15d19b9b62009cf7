"""A goal as it stood at a past moment, over HTTP on real PostgreSQL: at every step of a history
written through the API, `?as_of=` gives exactly what a read gave right after that step."""

from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.integration.api.support import assert_problem, set_goal
from tests.integration.api.world import Clinic

Api = AsyncTestClient[Litestar]

STEPS = st.sampled_from(["check_in", "correct_check_in", "adjust", "pause", "resume", "share"])


async def _step(api: Api, clinic: Clinic, goal_id: str, step: str, check_ins: list[str]) -> int:
    """Writes one step of a goal's course; the status it was answered with."""
    path = f"/v1/goals/{goal_id}"
    headers = clinic.therapist.headers
    match step:
        case "check_in":
            check_in_id = str(uuid4())
            check_ins.append(check_in_id)
            body: dict[str, Any] = {"amount": len(check_ins), "check_in_id": check_in_id}
            answer = await api.post(f"{path}/check-ins", json=body, headers=clinic.client.headers)
        case "correct_check_in":
            body = {"scope": "check_in", "reason": "Counted twice"}
            body["check_in_id"] = check_ins.pop() if check_ins else str(uuid4())
            answer = await api.post(f"{path}/corrections", json=body, headers=headers)
        case "adjust":
            body = {"changes": {"statement": f"Walk {uuid4().hex[:6]}"}, "reason": "Kinder"}
            answer = await api.post(f"{path}/adjustments", json=body, headers=headers)
        case "pause":
            answer = await api.post(f"{path}/pause", json={"reason": "Unwell"}, headers=headers)
        case "resume":
            answer = await api.post(f"{path}/resume", json={}, headers=headers)
        case _:
            answer = await api.post(
                f"{path}/supporters/{clinic.supporter.id}", headers=clinic.client.headers
            )
    assert answer.status_code < 500, answer.text
    return answer.status_code


@settings(
    max_examples=6,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(STEPS, min_size=1, max_size=7))
async def test_as_of_every_step_is_the_goal_as_read_right_after_it(
    api: Api, clinic: Clinic, steps: list[str]
) -> None:
    goal_id = (await set_goal(api, clinic))["goal_id"]
    url = f"/v1/goals/{goal_id}"
    read = await api.get(url, headers=clinic.therapist.headers)
    seen = {1: read.json()}
    check_ins: list[str] = []
    for step in steps:
        if await _step(api, clinic, goal_id, step, check_ins) == 200:
            read = await api.get(url, headers=clinic.therapist.headers)
            seen[read.json()["version"]] = read.json()

    history = (await api.get(f"{url}/history", headers=clinic.therapist.headers)).json()
    assert [entry["version"] for entry in history] == sorted(seen)
    moments = [datetime.fromisoformat(entry["recorded_at"]) for entry in history]
    for index, entry in enumerate(history):
        just_before_next = (
            moments[index + 1] - timedelta(microseconds=1)
            if index + 1 < len(moments)
            else moments[index] + timedelta(days=1)
        )
        for moment in {moments[index], just_before_next}:
            as_of = await api.get(
                url, params={"as_of": moment.isoformat()}, headers=clinic.therapist.headers
            )
            assert as_of.status_code == 200, as_of.text
            assert as_of.json() == seen[entry["version"]], (moment, entry["version"])


async def test_before_the_goal_was_set_is_refused_as_not_yet_set(api: Api, clinic: Clinic) -> None:
    goal = await set_goal(api, clinic)
    history = await api.get(
        f"/v1/goals/{goal['goal_id']}/history", headers=clinic.therapist.headers
    )
    set_at = datetime.fromisoformat(history.json()[0]["recorded_at"])
    before = await api.get(
        f"/v1/goals/{goal['goal_id']}",
        params={"as_of": (set_at - timedelta(microseconds=1)).isoformat()},
        headers=clinic.therapist.headers,
    )
    problem = assert_problem(before, 404, "goal_not_yet_set")
    assert problem["errors"][0]["field"] == "as_of"


# Refusals on a goal of their own: the cases share the module's database, app and clinic.
@pytest.mark.parametrize("as_of", ["yesterday", "2026-03-01T12:00:00", "2026-13-01T00:00Z", ""])
async def test_a_time_that_is_not_one_moment_is_refused(
    module_api: Api, module_clinic: Clinic, as_of: str
) -> None:
    goal = await set_goal(module_api, module_clinic)
    answer = await module_api.get(
        f"/v1/goals/{goal['goal_id']}",
        params={"as_of": as_of},
        headers=module_clinic.therapist.headers,
    )
    assert_problem(answer, 400, "invalid_as_of")


async def test_as_of_is_read_under_the_goal_reads_own_access(
    api: Api, clinic: Clinic, other_clinic: Clinic
) -> None:
    goal = await set_goal(api, clinic)
    share = await api.post(
        f"/v1/goals/{goal['goal_id']}/supporters/{clinic.supporter.id}",
        headers=clinic.client.headers,
    )
    assert share.status_code == 200, share.text
    params = {"as_of": (datetime.now().astimezone() + timedelta(minutes=1)).isoformat()}
    url = f"/v1/goals/{goal['goal_id']}"
    for outsider in (other_clinic.therapist, other_clinic.auditor, clinic.other_therapist):
        assert_problem(
            await api.get(url, params=params, headers=outsider.headers), 404, "not_found"
        )
    assert_problem(
        await api.get(url, params=params, headers=clinic.auditor.headers), 403, "forbidden"
    )
    shared = await api.get(url, params=params, headers=clinic.supporter.headers)
    assert shared.status_code == 200, shared.text
    assert "client_id" not in shared.json()
    assert shared.json() == (await api.get(url, headers=clinic.supporter.headers)).json()
