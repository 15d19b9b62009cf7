"""The admin's webhook pages over HTTP: registering shows the secret once (never kept in a
cache), a refused address writes nothing, sending stops and starts, the secret rotates, and
another clinic's endpoints do not exist. Names resolve through a stub resolver."""

import ipaddress

import asyncpg
import pytest

from infra.webhooks.addresses import Address, AddressGuard
from tests.integration.api.support import row_counts
from tests.integration.api.world import Clinic
from tests.integration.web.pages import Web, csrf_token, send_form, sign_in

NAMES = {"hooks.example.org": "93.184.216.34", "intranet.example.org": "10.1.2.3"}
PAGE = "/admin/webhooks"


@pytest.fixture
async def admin_web(web: Web, clinic: Clinic, pool: asyncpg.Pool) -> Web:
    async def resolve(host: str, port: int) -> list[Address]:
        if host not in NAMES:
            raise OSError("unknown host")
        return [ipaddress.ip_address(NAMES[host])]

    web.app.state.webhook_guard = AddressGuard(resolver=resolve)
    await sign_in(web, pool, "admin@north.example")
    return web


async def _register(web: Web, url: str) -> tuple[int, str, str]:
    page = await web.get(PAGE)
    sent = await web.post(
        PAGE,
        data={
            "_csrf_token": csrf_token(page),
            "url": url,
            "event_types": ["goal.set", "goal.achieved"],
            "format": "full",
        },
    )
    return sent.status_code, sent.text, sent.headers.get("cache-control", "")


async def test_an_endpoint_is_registered_with_its_secret_shown_once(
    admin_web: Web, pool: asyncpg.Pool
) -> None:
    status, text, cache = await _register(admin_web, "https://hooks.example.org/in")
    assert status == 200, text
    assert cache == "no-store"
    secret = text.split('id="signing-secret">')[1].split("<")[0]
    assert secret.startswith("whsec_")
    row = await pool.fetchrow("SELECT id, event_types, format FROM webhook_endpoints")
    assert row is not None
    assert (row["event_types"], row["format"]) == (["goal.set", "goal.achieved"], "full")
    again = await admin_web.get(PAGE)
    assert secret not in again.text
    assert "https://hooks.example.org/in" in again.text

    endpoint = f"{PAGE}/{row['id']}"
    stopped = await send_form(admin_web, PAGE, f"{endpoint}/disable")
    assert stopped.status_code == 303
    assert "Stopped (stopped by hand)" in (await admin_web.get(PAGE)).text
    started = await send_form(admin_web, PAGE, f"{endpoint}/enable")
    assert started.status_code == 303
    assert await pool.fetchval("SELECT enabled FROM webhook_endpoints") is True
    rotated = await send_form(admin_web, PAGE, f"{endpoint}/rotate-secret")
    assert rotated.status_code == 200
    assert rotated.headers["cache-control"] == "no-store"
    assert "The old one keeps signing beside it" in rotated.text
    assert rotated.text.split('id="signing-secret">')[1].split("<")[0] != secret
    deliveries = await admin_web.get(f"{endpoint}/deliveries")
    assert deliveries.status_code == 200
    assert "Nothing sent yet." in deliveries.text


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("https://intranet.example.org/", "internal"),
        ("https://nowhere.example.org/", "resolve"),
        ("http://hooks.example.org/in", "https"),
    ],
)
async def test_a_refused_address_says_why_and_writes_nothing(
    admin_web: Web, pool: asyncpg.Pool, url: str, words: str
) -> None:
    before = await row_counts(pool)
    status, text, _ = await _register(admin_web, url)
    assert status == 422
    assert words in text.lower()
    assert await row_counts(pool) == before


async def test_another_clinics_endpoint_does_not_exist(
    south: Clinic, admin_web: Web, pool: asyncpg.Pool
) -> None:
    theirs = await admin_web.post(
        "/v1/webhook-endpoints",
        json={"url": "https://hooks.example.org/south", "event_types": ["*"]},
        headers=south.admin.headers,
    )
    assert theirs.status_code == 201, theirs.text
    endpoint = theirs.json()["id"]
    assert "hooks.example.org/south" not in (await admin_web.get(PAGE)).text
    assert (await admin_web.get(f"{PAGE}/{endpoint}/deliveries")).status_code == 404
    before = await row_counts(pool)
    for action in ("disable", "enable", "rotate-secret"):
        refused = await send_form(admin_web, PAGE, f"{PAGE}/{endpoint}/{action}")
        assert refused.status_code == 404
    assert await row_counts(pool) == before
