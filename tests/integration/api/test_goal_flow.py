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


async def test_a_goal_shows_its_ten_latest_check_ins_and_counts_them_all(
    api: AsyncTestClient, clinic: Clinic
) -> None:
    created = await api.post("/v1/goals", json=goal_body(), headers=clinic.client.headers)
    assert created.status_code == 201, created.text
    goal_id = created.json()["goal_id"]
    for amount in range(1, 13):
        checked = await api.post(
            f"/v1/goals/{goal_id}/check-ins", json={"amount": amount}, headers=clinic.client.headers
        )
        assert checked.status_code == 200, checked.text

    read = await api.get(f"/v1/goals/{goal_id}", headers=clinic.client.headers)

    goal = read.json()
    assert [check_in["amount"] for check_in in goal["recent_check_ins"]] == list(range(3, 13))
    assert checked.json()["goal"]["recent_check_ins"] == goal["recent_check_ins"]
    assert (goal["check_in_count"], goal["progress_total"]) == (12, sum(range(1, 13)))
