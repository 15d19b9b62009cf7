import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import asyncpg
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from infra.access.clinics import start_clinic
from infra.config import Settings, get_settings
from infra.mail.smtp import SmtpSender
from services.api.app import create_app
from services.worker.mail import MailDelivery
from tests.integration.api.world import TOKEN_KEY
from tests.integration.mail.smtp_server import SmtpServer, smtp_server

MAIL_FROM = "Therapy goals <noreply@clinic.example>"


def mail_environment(database_url: str, smtp_port: int, **overrides: str) -> dict[str, str]:
    """E-mail on, through the test's SMTP server, with every wait short."""
    return {
        "DATABASE_URL": database_url,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "SMTP_SECURITY": "none",
        "MAIL_FROM": MAIL_FROM,
        "PUBLIC_BASE_URL": "https://goals.clinic.example",
        "SMTP_TIMEOUT_SECONDS": "2",
        "MAIL_LEASE_SECONDS": "3",
        "MAIL_RETRY_FIRST_SECONDS": "0.1",
        "MAIL_RETRY_MAX_SECONDS": "0.4",
        "MAIL_POLL_SECONDS": "0.05",
        "MAIL_MAX_ATTEMPTS": "5",
        "LOG_FORMAT": "json",
        "TOKEN_HASH_KEY": TOKEN_KEY,
        **overrides,
    }


@contextmanager
def environment(values: dict[str, str]) -> Iterator[Settings]:
    """The process's settings (what `queue_email` reads) from `values`, for the block."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    get_settings.cache_clear()
    try:
        yield get_settings()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()


Api = AsyncTestClient[Litestar]


@pytest.fixture
async def api(mail_settings: Settings) -> AsyncIterator[Api]:
    """The API in this process, with e-mail on."""
    # No Redis: these tests need none, and the metrics' ping of it fails at once.
    settings = msgspec.structs.replace(
        mail_settings, rate_limit_requests=0, redis_url="redis://127.0.0.1:1/0"
    )
    async with AsyncTestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def mail_settings(database_url: str, smtp: SmtpServer) -> Iterator[Settings]:
    with environment(mail_environment(database_url, smtp.port)) as settings:
        yield settings


@pytest.fixture
async def clinic_id(pool: asyncpg.Pool) -> object:
    async with pool.acquire() as conn, conn.transaction():
        admin, _ = await start_clinic(conn, "North", "admin@north.example", "key")
    return admin.clinic_id


class Senders:
    """Mail delivery loops run in the test's process, each on a pool of its own."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._running: list[tuple[asyncio.Event, asyncio.Task[None], asyncpg.Pool]] = []

    async def start(self, settings: Settings | None = None) -> MailDelivery:
        settings = settings or self.settings
        pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=2)
        delivery = MailDelivery(settings, pool, SmtpSender(settings))
        stop = asyncio.Event()
        self._running.append((stop, asyncio.create_task(delivery.run(stop)), pool))
        return delivery

    async def stop(self) -> None:
        for stop, task, pool in self._running:
            stop.set()
            await task
            await pool.close()
        self._running = []


@pytest.fixture
async def senders(mail_settings: Settings) -> AsyncIterator[Senders]:
    running = Senders(mail_settings)
    try:
        yield running
    finally:
        await running.stop()
