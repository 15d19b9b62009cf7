"""Loopback forms, through the system's own resolver, with no network allowed: refused at
registration and at delivery, before any connection. No test here connects anywhere but
loopback (and then only where the allow-list admits it)."""

import ipaddress

import asyncpg
import pytest

from infra.webhooks.addresses import Address, AddressGuard, Refused, parse_networks
from infra.webhooks.sender import Sender
from tests.integration.webhooks.conftest import (
    add_endpoint,
    fan_out,
    goals_with_events,
    webhook_settings,
)
from tests.integration.webhooks.receiver import receiving

LOOPBACK_FORMS = [
    "https://127.0.0.1/",
    "https://127.1/",
    "https://2130706433/",
    "https://0x7f000001/",
    "https://[::1]/",
    "https://[::ffff:127.0.0.1]/",
    "https://localhost/",
]


@pytest.mark.parametrize("url", LOOPBACK_FORMS)
async def test_every_loopback_form_is_refused(url: str) -> None:
    with pytest.raises(Refused) as refused:
        await AddressGuard().target(url)
    assert refused.value.code == "forbidden_address"


@pytest.mark.usefixtures("clinic_id")
async def test_delivery_to_a_loopback_receiver_is_refused_without_the_allow_list(
    pool: asyncpg.Pool, database_url: str
) -> None:
    strict = Sender(pool, webhook_settings(database_url, webhook_allowed_networks=""))
    goal_ids = await goals_with_events(pool, 1, 1)
    with receiving() as receiver:
        endpoint_id, _ = await add_endpoint(pool, receiver.url)
        await fan_out(pool, goal_ids)
        await strict.send_endpoint(endpoint_id)
    assert receiver.received == []
    attempt = await pool.fetchrow("SELECT status_code, error FROM webhook_attempts")
    assert attempt is not None
    assert attempt["status_code"] is None
    assert attempt["error"].startswith("forbidden_address: 127.0.0.1 resolves to 127.0.0.1")
    assert await pool.fetchval("SELECT state FROM webhook_deliveries") == "pending"


class ChangingResolver:
    """A name whose addresses change from one lookup to the next, as a rebinding attacker's."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.asked = 0

    async def __call__(self, host: str, port: int) -> list[Address]:
        answer = self.answers[min(self.asked, len(self.answers) - 1)]
        self.asked += 1
        return [ipaddress.ip_address(answer)]


@pytest.mark.usefixtures("clinic_id")
async def test_the_connection_goes_to_the_address_checked_and_a_rebound_name_is_refused(
    pool: asyncpg.Pool, database_url: str
) -> None:
    resolver = ChangingResolver("127.0.0.1", "10.0.0.1")
    guard = AddressGuard(parse_networks("127.0.0.0/8"), allow_http=True, resolver=resolver)
    sender = Sender(pool, webhook_settings(database_url), guard=guard)
    first, second = await goals_with_events(pool, 2, 1)
    with receiving() as receiver:
        port = receiver.url.rsplit(":", 1)[1].split("/")[0]
        # A name no resolver but the stub knows: only the checked address can have been used.
        endpoint_id, secret = await add_endpoint(pool, f"http://hooks.example.org:{port}/in")
        await fan_out(pool, [first])
        await sender.send_endpoint(endpoint_id)
        await fan_out(pool, [second])
        await sender.send_endpoint(endpoint_id)

    assert len(receiver.received) == 1
    assert receiver.received[0].headers["host"] == f"hooks.example.org:{port}"
    receiver.received[0].verified(secret)
    refused = await pool.fetchval("SELECT error FROM webhook_attempts WHERE status_code IS NULL")
    assert refused.startswith("forbidden_address: hooks.example.org resolves to 10.0.0.1")
