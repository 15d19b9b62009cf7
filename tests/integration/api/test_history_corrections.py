"""A goal's history shows each correction beside what it corrects: the corrected check-in stays,
marked entered in error, with who corrected it, when and why, on whichever page it falls."""

from typing import Any
from uuid import uuid4

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.integration.api.support import set_goal
from tests.integration.api.world import Clinic

Api = AsyncTestClient[Litestar]


async def _history(api: Api, clinic: Clinic, goal_id: str, limit: int) -> list[dict[str, Any]]:
    """The whole history, read `limit` entries at a time."""
    entries: list[dict[str, Any]] = []
    while True:
        page = await api.get(
            f"/v1/goals/{goal_id}/history",
            params={"limit": limit, "after_version": entries[-1]["version"] if entries else 0},
            headers=clinic.auditor.headers,
        )
        assert page.status_code == 200, page.text
        entries += page.json()
        if len(page.json()) < limit:
            return entries


async def test_a_corrected_check_in_stays_beside_its_correction(api: Api, clinic: Clinic) -> None:
    goal_id = (await set_goal(api, clinic))["goal_id"]
    check_ins = [str(uuid4()) for _ in range(3)]
    for amount, check_in_id in enumerate(check_ins, start=1):
        body = {"amount": amount, "check_in_id": check_in_id}
        checked = await api.post(
            f"/v1/goals/{goal_id}/check-ins", json=body, headers=clinic.client.headers
        )
        assert checked.status_code == 200, checked.text
    correction = {"scope": "check_in", "check_in_id": check_ins[1], "reason": "Counted twice"}
    corrected = await api.post(
        f"/v1/goals/{goal_id}/corrections", json=correction, headers=clinic.therapist.headers
    )
    assert corrected.status_code == 200, corrected.text

    for limit in (2, 200):
        history = await _history(api, clinic, goal_id, limit)
        assert [entry["type"] for entry in history] == [
            "goal_set",
            *["progress_recorded"] * 3,
            "correction_recorded",
        ]
        marked = [entry for entry in history if entry["entered_in_error"]]
        assert [entry["data"]["check_in_id"] for entry in marked] == [check_ins[1]]
        mark = marked[0]["corrected_by"]
        assert mark["version"] == 5
        assert mark["reason"] == "Counted twice"
        assert mark["actor"]["id"] == str(clinic.therapist.id)
        assert mark["actor"]["role"] == "therapist"
        assert mark["actor"]["name"] == "north therapist"
        assert mark["recorded_at"] == history[4]["recorded_at"]
        assert all(entry["corrected_by"] is None for entry in history if entry not in marked)


async def test_a_goal_entered_in_error_is_marked_at_its_setting(api: Api, clinic: Clinic) -> None:
    goal_id = (await set_goal(api, clinic))["goal_id"]
    checked = await api.post(
        f"/v1/goals/{goal_id}/check-ins", json={"amount": 1}, headers=clinic.client.headers
    )
    assert checked.status_code == 200, checked.text
    corrected = await api.post(
        f"/v1/goals/{goal_id}/corrections",
        json={"scope": "goal", "reason": "Set for the wrong client"},
        headers=clinic.therapist.headers,
    )
    assert corrected.status_code == 200, corrected.text

    history = await _history(api, clinic, goal_id, 1)

    assert [entry["entered_in_error"] for entry in history] == [True, False, False]
    assert history[0]["corrected_by"]["reason"] == "Set for the wrong client"
    assert history[0]["corrected_by"]["version"] == 3
