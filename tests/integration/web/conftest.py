import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import msgspec
import pytest
from litestar.testing import AsyncTestClient
from playwright.async_api import Browser, async_playwright

from infra.config import Settings
from services.api.app import create_app
from tests.integration.api.api_service import ApiService
from tests.integration.api.support import project_everything
from tests.integration.api.world import Clinic, app_settings, build_clinic
from tests.integration.mail.conftest import Senders, environment, mail_environment
from tests.integration.mail.smtp_server import SmtpServer, smtp_server
from tests.integration.web.browser import CHROMIUM, chromium_missing
from tests.integration.web.pages import Web
from tests.processes import free_port

BASE_URL = "https://goals.clinic.example"


@pytest.fixture
async def clinic(database_url: str, pool: asyncpg.Pool) -> Clinic:
    """A clinic with a person in every role, built while e-mail is off (the invitation codes
    come back in the API's answers)."""
    async with AsyncTestClient(create_app(app_settings(database_url))) as api:
        return await build_clinic(api, pool, "north")


@pytest.fixture
def web_settings(database_url: str, clinic: Clinic) -> Iterator[Settings]:
    """E-mail on (queued in the outbox; these tests read it there), links to BASE_URL."""
    with environment(mail_environment(database_url, 1, PUBLIC_BASE_URL=BASE_URL)) as settings:
        yield msgspec.structs.replace(
            settings, rate_limit_requests=0, redis_url="redis://127.0.0.1:1/0"
        )


@pytest.fixture
async def web(web_settings: Settings) -> AsyncIterator[Web]:
    """A browser's view of the app in this process: it keeps its cookies."""
    async with AsyncTestClient(create_app(web_settings), base_url=BASE_URL) as client:
        client.follow_redirects = False  # each test looks at the redirects themselves
        yield client


@pytest.fixture
def projector(database_url: str) -> Iterator[None]:
    """Keeps the goal projection up to date in the background, as the workers would, so that a
    page that waits for its write (`min_position`) sees it. On a thread of its own: the
    in-process test client holds the test's event loop while it waits for an answer."""
    stop = threading.Event()

    async def follow() -> None:
        pool = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
        try:
            while not stop.is_set():
                await project_everything(pool)
                await asyncio.sleep(0.02)
        finally:
            await pool.close()

    thread = threading.Thread(target=asyncio.run, args=(follow(),), daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """One headless Chromium for the whole run: each test opens contexts of its own."""
    missing = chromium_missing()
    if missing:
        pytest.skip(missing)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
async def served_web(
    database_url: str, clinic: Clinic, smtp: SmtpServer, tmp_path: Path
) -> AsyncIterator[str]:
    """The service as `goals api` runs it, on plain http on loopback, sending its e-mail to the
    test SMTP server (through a mail delivery loop as the workers run it); its base URL."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = mail_environment(database_url, smtp.port, PUBLIC_BASE_URL=base_url)
    with environment(settings) as mail_settings:
        senders = Senders(mail_settings)
        await senders.start()
        service = ApiService(database_url, tmp_path / "api.log", 1, port, **settings)
        try:
            await service.until_live()
            yield base_url
        finally:
            service.kill()
            await senders.stop()


@pytest.fixture
async def south(database_url: str, pool: asyncpg.Pool) -> Clinic:
    """A second clinic, built while e-mail is off: a test names it before the `web` fixtures."""
    async with AsyncTestClient(create_app(app_settings(database_url))) as api:
        return await build_clinic(api, pool, "south")
