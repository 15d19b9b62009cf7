"""Signing in and sending forms as a browser does, for the web app's tests over HTTP."""

import re
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient

Web = AsyncTestClient[Litestar]

_CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')
_LINK = re.compile(r"https?://\S+/sign-in/link\?code=\S+")


def csrf_token(page: httpx.Response) -> str:
    found = _CSRF.search(page.text)
    assert found is not None, page.text
    return found.group(1)


async def send_form(web: Web, page_path: str, action: str, **fields: str) -> httpx.Response:
    """Opens the page, then sends its form to `action` with its CSRF token and `fields`."""
    page = await web.get(page_path)
    assert page.status_code == 200, page.text
    return await web.post(action, data={"_csrf_token": csrf_token(page), **fields})


def link_in(text: str) -> str:
    found = _LINK.search(text)
    assert found is not None, text
    return found.group(0)


async def sign_in_links_to(pool: asyncpg.Pool, email: str) -> list[str]:
    """The sign-in links e-mailed to the address, oldest first, from the outbox."""
    rows = await pool.fetch(
        "SELECT body_text FROM email_outbox WHERE to_address = $1 AND dedup_key LIKE 'sign-in:%'"
        " ORDER BY created_at",
        email,
    )
    return [link_in(row["body_text"]) for row in rows]


def code_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["code"][0]


async def ask_for_link(web: Web, pool: asyncpg.Pool, email: str) -> str:
    sent = await send_form(web, "/sign-in", "/sign-in", email=email)
    assert sent.status_code == 303, sent.text
    assert sent.headers["location"] == "/sign-in/sent"
    return (await sign_in_links_to(pool, email))[-1]


async def use_link(web: Web, link: str) -> httpx.Response:
    path = urlsplit(link)
    return await send_form(web, f"{path.path}?{path.query}", "/sign-in/link", code=code_of(link))


async def sign_in(web: Web, pool: asyncpg.Pool, email: str) -> None:
    used = await use_link(web, await ask_for_link(web, pool, email))
    assert used.status_code == 303, used.text
