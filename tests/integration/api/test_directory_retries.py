"""Idempotency-Key on the writes that manage people, credentials, care teams and settings, as on
goal writes: a retry with the same key answers the first reply and writes nothing, even where a
retry without one would answer otherwise or undo a change made in between."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
from httpx import Response
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.integration.api.support import assert_problem, row_counts, set_goal
from tests.integration.api.world import Clinic, Person

Api = AsyncTestClient[Litestar]


@dataclass(frozen=True)
class Write:
    method: str
    path: str
    caller: Person
    body: Any = None

    async def send(self, api: Api, key: str) -> Response:
        headers = {**self.caller.headers, "Idempotency-Key": key}
        return await api.request(self.method, self.path, json=self.body, headers=headers)


async def _spare_token(api: Api, person: Person) -> str:
    minted = await api.post(f"/v1/users/{person.id}/tokens", json={}, headers=person.headers)
    assert minted.status_code == 201, minted.text
    token_id: str = minted.json()["token_id"]
    return token_id


async def _shared_goal(api: Api, clinic: Clinic) -> str:
    goal_id: str = (await set_goal(api, clinic))["goal_id"]
    shared = await api.post(
        f"/v1/goals/{goal_id}/supporters/{clinic.supporter.id}", headers=clinic.client.headers
    )
    assert shared.status_code == 200, shared.text
    return goal_id


async def _edit_user(api: Api, clinic: Clinic) -> Write:
    return Write("PATCH", f"/v1/users/{clinic.client.id}", clinic.admin, {"display_name": "Sam"})


async def _deactivate(api: Api, clinic: Clinic) -> Write:
    return Write("POST", f"/v1/users/{clinic.auditor.id}/deactivation", clinic.admin)


async def _change_settings(api: Api, clinic: Clinic) -> Write:
    settings = {"active_goal_limit": 3, "default_time_zone": "UTC", "max_token_lifetime_days": 60}
    return Write("PUT", "/v1/clinic/settings", clinic.admin, settings)


async def _assign(api: Api, clinic: Clinic) -> Write:
    care_team = f"/v1/clients/{clinic.other_client.id}/therapists/{clinic.therapist.id}"
    return Write("PUT", care_team, clinic.admin)


async def _unassign(api: Api, clinic: Clinic) -> Write:
    care_team = f"/v1/clients/{clinic.other_client.id}/therapists/{clinic.other_therapist.id}"
    return Write("DELETE", care_team, clinic.admin)


async def _revoke_token(api: Api, clinic: Clinic) -> Write:
    token_id = await _spare_token(api, clinic.client)
    return Write("DELETE", f"/v1/tokens/{token_id}", clinic.admin)


async def _revoke_all(api: Api, clinic: Clinic) -> Write:
    return Write("DELETE", f"/v1/users/{clinic.integration.id}/tokens", clinic.admin)


async def _remove_supporter(api: Api, clinic: Clinic) -> Write:
    goal_id = await _shared_goal(api, clinic)
    path = f"/v1/goals/{goal_id}/supporters/{clinic.supporter.id}"
    return Write("DELETE", path, clinic.client)


WRITES: dict[str, Callable[[Api, Clinic], Awaitable[Write]]] = {
    "edit a user": _edit_user,
    "deactivate a user": _deactivate,
    "change the settings": _change_settings,
    "assign a therapist": _assign,
    "unassign a therapist": _unassign,
    "revoke a token": _revoke_token,
    "revoke all of a user's tokens": _revoke_all,
    "stop sharing a goal": _remove_supporter,
}


@pytest.mark.parametrize("write", WRITES)
async def test_a_retry_with_the_same_key_answers_the_first_reply_and_writes_nothing(
    api: Api, clinic: Clinic, pool: asyncpg.Pool, write: str
) -> None:
    request = await WRITES[write](api, clinic)
    first = await request.send(api, "once")
    assert first.is_success, first.text
    assert "idempotent-replayed" not in first.headers
    written = await row_counts(pool)

    again = await request.send(api, "once")

    assert again.headers.get("idempotent-replayed") == "true", again.text
    assert (again.status_code, again.content) == (first.status_code, first.content)
    assert await row_counts(pool) == written


@pytest.mark.parametrize("write", WRITES)
async def test_the_same_key_on_another_write_is_refused_and_writes_nothing(
    api: Api, clinic: Clinic, pool: asyncpg.Pool, write: str
) -> None:
    request = await WRITES[write](api, clinic)
    assert (await request.send(api, "mine")).is_success
    written = await row_counts(pool)
    other = Write("PATCH", f"/v1/users/{request.caller.id}", request.caller, {"display_name": "X"})

    reused = await other.send(api, "mine")

    assert_problem(reused, 422, "idempotency_key_reused")
    assert await row_counts(pool) == written


async def test_a_retried_edit_does_not_undo_a_change_made_in_between(
    api: Api, clinic: Clinic
) -> None:
    path = f"/v1/users/{clinic.client.id}"
    edit = Write("PATCH", path, clinic.admin, {"display_name": "Sam Rivera"})
    assert (await edit.send(api, "rename")).is_success
    renamed_since = await api.patch(
        path, json={"display_name": "Sam R."}, headers=clinic.client.headers
    )
    assert renamed_since.status_code == 200, renamed_since.text

    again = await edit.send(api, "rename")

    assert again.json()["display_name"] == "Sam Rivera"  # the first reply
    now = await api.get(path, headers=clinic.admin.headers)
    assert now.json()["display_name"] == "Sam R."


async def test_a_retried_revocation_of_all_tokens_names_the_tokens_it_revoked(
    api: Api, clinic: Clinic
) -> None:
    """Sent again without a key, nothing is left to revoke and the answer is empty."""
    revoke_all = await _revoke_all(api, clinic)

    first = await revoke_all.send(api, "offboard")
    again = await revoke_all.send(api, "offboard")

    assert first.json()["revoked"]
    assert again.json() == first.json()


async def test_a_retried_unassignment_answers_204_not_404(api: Api, clinic: Clinic) -> None:
    unassign = await _unassign(api, clinic)

    first = await unassign.send(api, "leave")
    again = await unassign.send(api, "leave")

    assert (first.status_code, again.status_code) == (204, 204)
    assert again.content == b""
    assert again.headers["idempotent-replayed"] == "true"
