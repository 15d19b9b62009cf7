"""Signing in by e-mailed link or invitation, and what ends a session."""

import re
from datetime import timedelta

import asyncpg
import httpx

from infra.access.sign_in_mail import sign_in_url
from infra.access.web_sessions import LINK_LIFETIME
from infra.db.connection import Connection
from services.api.auth import SESSION_COOKIE
from services.cli.demo import seed_demo
from services.web.sign_in import EXPIRED_LINK
from tests.integration.api.world import TOKEN_KEY, Clinic
from tests.integration.web.conftest import BASE_URL
from tests.integration.web.pages import (
    Web,
    ask_for_link,
    send_form,
    sign_in,
    sign_in_links_to,
    use_link,
)

CLIENT_EMAIL = "north.client@example.org"


async def test_an_e_mailed_link_opens_a_session_with_a_cookie_scripts_cannot_read(
    web: Web, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    link = await ask_for_link(web, pool, CLIENT_EMAIL)
    assert link.startswith("https://goals.clinic.example/sign-in/link?code=tgl_")
    # Opening the link uses nothing: a mail scanner following it spends nothing.
    assert (await web.get(link.removeprefix("https://goals.clinic.example"))).status_code == 200
    used = await use_link(web, link)
    assert used.status_code == 303
    assert used.headers["location"] == "/"
    cookie = next(
        value for value in used.headers.get_list("set-cookie") if value.startswith(SESSION_COOKIE)
    )
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "secure", "samesite=lax", "path=/"} <= flags
    home = await web.get("/")
    assert home.status_code == 303
    assert home.headers["location"] == "/my/goals"
    page = await web.get("/my/goals")
    assert page.status_code == 200
    assert "north client" in page.text
    expires = await pool.fetchval(
        "SELECT expires_at - created_at FROM sign_in_links ORDER BY created_at DESC LIMIT 1"
    )
    assert LINK_LIFETIME - timedelta(seconds=1) < expires < LINK_LIFETIME + timedelta(seconds=1)


async def test_the_answer_is_the_same_for_an_address_nobody_has(
    web: Web, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    known = await send_form(web, "/sign-in", "/sign-in", email=CLIENT_EMAIL)
    unknown = await send_form(web, "/sign-in", "/sign-in", email="nobody@example.org")
    assert (known.status_code, known.headers["location"]) == (303, "/sign-in/sent")
    assert (unknown.status_code, unknown.headers["location"]) == (303, "/sign-in/sent")
    assert await sign_in_links_to(pool, "nobody@example.org") == []
    assert len(await sign_in_links_to(pool, CLIENT_EMAIL)) == 1


async def test_a_link_works_once(web: Web, clinic: Clinic, pool: asyncpg.Pool) -> None:
    link = await ask_for_link(web, pool, CLIENT_EMAIL)
    assert (await use_link(web, link)).status_code == 303
    web.cookies.clear()
    again = await use_link(web, link)
    assert again.status_code == 400
    assert EXPIRED_LINK in again.text
    assert SESSION_COOKIE not in again.headers.get("set-cookie", "")
    assert (await web.get("/my/goals")).headers["location"] == "/sign-in"


async def test_an_expired_link_opens_nothing(
    web: Web, clinic: Clinic, pool: asyncpg.Pool, admin_conn: Connection
) -> None:
    link = await ask_for_link(web, pool, CLIENT_EMAIL)
    await admin_conn.execute("UPDATE sign_in_links SET expires_at = now() - interval '1 second'")
    used = await use_link(web, link)
    assert used.status_code == 400
    assert EXPIRED_LINK in used.text


async def test_a_deactivated_persons_open_session_stops_at_once(
    web: Web, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    await sign_in(web, pool, CLIENT_EMAIL)
    assert (await web.get("/my/goals")).status_code == 200
    deactivated = await web.post(
        f"/v1/users/{clinic.client.id}/deactivation", headers=clinic.admin.headers
    )
    assert deactivated.status_code == 200, deactivated.text
    after = await web.get("/my/goals")
    assert (after.status_code, after.headers["location"]) == (303, "/sign-in")


async def test_signing_out_everywhere_ends_every_session_but_not_api_tokens(
    web: Web, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    await sign_in(web, pool, CLIENT_EMAIL)
    phone = httpx.Cookies(web.cookies)
    web.cookies.clear()
    await sign_in(web, pool, CLIENT_EMAIL)
    laptop = httpx.Cookies(web.cookies)
    web.cookies.clear()
    await sign_in(web, pool, CLIENT_EMAIL)
    # Signing out here ends this session alone.
    out = await send_form(web, "/my/goals", "/sign-out")
    assert (out.status_code, out.headers["location"]) == (303, "/sign-in?signed_out=1")
    assert (await web.get("/my/goals")).status_code == 303
    web.cookies = laptop
    assert (await web.get("/my/goals")).status_code == 200
    everywhere = await send_form(web, "/my/goals", "/sign-out/everywhere")
    assert everywhere.status_code == 303
    for browser in (phone, laptop):
        web.cookies = browser
        assert (await web.get("/my/goals")).headers["location"] == "/sign-in"
    mine = await web.get("/v1/me/goals", headers=clinic.client.headers)
    assert mine.status_code == 200


async def test_an_invitation_opens_a_session(web: Web, clinic: Clinic, pool: asyncpg.Pool) -> None:
    invited = await web.post(
        f"/v1/users/{clinic.client.id}/invitations", headers=clinic.admin.headers
    )
    assert invited.json()["delivery"] == "email"
    body = await pool.fetchval(
        "SELECT body_text FROM email_outbox WHERE dedup_key LIKE 'invitation:%'"
    )
    link = re.search(r"https://\S+/invitation#code=(tgi_\S+)", body)
    assert link is not None, body
    accepted = await send_form(web, "/invitation", "/invitation", code=link.group(1))
    assert (accepted.status_code, accepted.headers["location"]) == (303, "/")
    assert (await web.get("/my/goals")).status_code == 200
    web.cookies.clear()
    again = await send_form(web, "/invitation", "/invitation", code=link.group(1))
    assert again.status_code == 400
    assert (await web.get("/my/goals")).status_code == 303


async def test_the_demos_sign_in_links_open_the_app(web: Web, pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn, conn.transaction():
        demo = await seed_demo(conn, TOKEN_KEY)
    sam = next(user for user in demo.users if user.name == "Sam Rivera")
    used = await use_link(web, sign_in_url(BASE_URL, sam.sign_in_code))
    assert (used.status_code, used.headers["location"]) == (303, "/")
    page = await web.get("/my/goals")
    assert page.status_code == 200
    assert "Sam Rivera" in page.text
