"""The clinic the fault run writes to, set up as an operator and an admin would: the clinic and
its first admin by `goals create-clinic`, everyone and every goal else through the API."""

import re
from dataclasses import dataclass
from uuid import UUID

import httpx

from tests.integration.api.world import goal_body

_ADMIN_TOKEN = re.compile(r"admin token \(shown once, expires [0-9-]+\): (\S+)")


def admin_token_from(create_clinic_output: str) -> str:
    found = _ADMIN_TOKEN.search(create_clinic_output)
    if found is None:
        raise RuntimeError(f"goals create-clinic printed no token: {create_clinic_output!r}")
    return found.group(1)


@dataclass(frozen=True)
class Writer:
    """Someone who writes to goals: the therapist (every goal) or one client (their own)."""

    token: str
    goal_ids: tuple[UUID, ...]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass(frozen=True)
class World:
    therapist: Writer
    clients: tuple[Writer, ...]

    @property
    def goal_ids(self) -> tuple[UUID, ...]:
        return self.therapist.goal_ids


def _created(response: httpx.Response) -> dict[str, object]:
    if response.status_code not in {200, 201}:
        raise RuntimeError(f"set-up refused: {response.status_code} {response.text}")
    body: dict[str, object] = response.json()
    return body


async def _person(
    api: httpx.AsyncClient, admin: dict[str, str], role: str, name: str
) -> tuple[UUID, str]:
    """A new user's id and token."""
    user = _created(
        await api.post(
            "/v1/users",
            json={"role": role, "display_name": name, "email": f"{name}@faults.example"},
            headers=admin,
        )
    )
    # The admin invites them, and they redeem the code for a token of their own.
    invited = _created(await api.post(f"/v1/users/{user['id']}/invitations", headers=admin))
    token = _created(await api.post("/v1/invitations/redemption", json={"code": invited["code"]}))
    return UUID(str(user["id"])), str(token["token"])


async def build_world(
    api: httpx.AsyncClient, admin_token: str, clients: int, goals_per_client: int
) -> World:
    """A therapist with `clients` clients on their care team, each with their goals set."""
    admin = {"Authorization": f"Bearer {admin_token}"}
    therapist_id, therapist_token = await _person(api, admin, "therapist", "therapist")
    therapist = {"Authorization": f"Bearer {therapist_token}"}
    writers = []
    for number in range(clients):
        client_id, client_token = await _person(api, admin, "client", f"client-{number}")
        _created(await api.put(f"/v1/clients/{client_id}/therapists/{therapist_id}", headers=admin))
        goals = []
        for _ in range(goals_per_client):
            written = _created(
                await api.post(
                    "/v1/goals",
                    json=goal_body(client_id=str(client_id)),
                    headers=therapist,
                )
            )
            goals.append(UUID(str(written["goal_id"])))
        writers.append(Writer(client_token, tuple(goals)))
    every_goal = tuple(goal for writer in writers for goal in writer.goal_ids)
    return World(Writer(therapist_token, every_goal), tuple(writers))
