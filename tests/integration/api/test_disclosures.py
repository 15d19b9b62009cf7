"""A client's accounting of disclosures holds the webhook deliveries of their goals' events as
the service really makes them: fanned out from the log, sent, acknowledged by the receiver."""

from uuid import UUID, uuid4

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from infra.webhooks import endpoints, fanout
from infra.webhooks.endpoints import NewEndpoint
from infra.webhooks.sender import Sender
from infra.webhooks.signing import new_secret
from tests.integration.api.support import clinic_id_of, set_goal
from tests.integration.api.world import Clinic
from tests.integration.webhooks.conftest import send_until, webhook_settings
from tests.integration.webhooks.receiver import Answer, Receiver, receiving


def _refusing(receiver: Receiver, body: bytes) -> Answer:
    return Answer(410)  # Gone: the sender stops at once, the delivery failed


async def _endpoint(pool: asyncpg.Pool, clinic_id: UUID, url: str) -> UUID:
    new = NewEndpoint(uuid4(), clinic_id, url, ["*"], "id-only", "", new_secret())
    async with pool.acquire() as conn:
        return (await endpoints.create(conn, new)).id


async def test_a_client_sees_each_delivery_a_receiver_acknowledged(
    api: AsyncTestClient[Litestar], clinic: Clinic, pool: asyncpg.Pool, database_url: str
) -> None:
    goal = UUID((await set_goal(api, clinic))["goal_id"])
    clinic_id = await clinic_id_of(api, clinic.auditor)
    sender = Sender(pool, webhook_settings(database_url))

    with receiving() as acknowledging, receiving(_refusing) as refusing:
        taken = await _endpoint(pool, clinic_id, acknowledging.url)
        refused = await _endpoint(pool, clinic_id, refusing.url)
        async with pool.acquire() as conn:
            await fanout.CONSUMER.apply(conn, goal)
        assert await send_until(sender, taken, lambda: len(acknowledging.received) == 1)
        assert await send_until(sender, refused, lambda: len(refusing.received) == 1)

    account = await api.get("/v1/me/access-log", headers=clinic.client.headers)
    others = await api.get("/v1/me/access-log", headers=clinic.other_client.headers)

    assert account.status_code == 200, account.text
    (delivery,) = account.json()["disclosures"]
    assert delivery["kind"] == "webhook_delivery"
    assert (delivery["recipient"], delivery["goal_ids"]) == (acknowledging.url, [str(goal)])
    assert (delivery["event_type"], delivery["status"]) == ("goal.set", 200)
    assert delivery["user_id"] is None
    assert others.json()["disclosures"] == []
