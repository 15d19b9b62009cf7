from litestar.testing import AsyncTestClient

from tests.integration.api.world import Clinic, goal_body


async def test_a_goal_is_set_checked_in_on_and_achieved(
    api: AsyncTestClient, clinic: Clinic
) -> None:
    created = await api.post(
        "/v1/goals",
        json=goal_body(client_id=str(clinic.client.id)),
        headers=clinic.therapist.headers,
    )
    assert created.status_code == 201, created.text
    goal_id = created.json()["goal_id"]
    assert created.json()["version"] == 1

    checked = await api.post(
        f"/v1/goals/{goal_id}/check-ins",
        json={"amount": 1, "note": "walked"},
        headers=clinic.client.headers,
    )
    assert checked.status_code == 200, checked.text
    assert checked.json()["version"] == 2
    assert checked.json()["goal"]["progress_total"] == 1

    achieved = await api.post(
        f"/v1/goals/{goal_id}/achievement", json={}, headers=clinic.client.headers
    )
    assert achieved.status_code == 200, achieved.text

    read = await api.get(f"/v1/goals/{goal_id}", headers=clinic.therapist.headers)
    assert read.json()["status"] == "achieved"
    history = await api.get(f"/v1/goals/{goal_id}/history", headers=clinic.auditor.headers)
    assert [entry["type"] for entry in history.json()] == [
        "goal_set",
        "progress_recorded",
        "goal_achieved",
    ]
