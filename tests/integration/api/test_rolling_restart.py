"""`goals api` replaces its workers one at a time on SIGHUP, and none outlives it."""

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.integration.api.api_service import ApiService
from tests.integration.api.test_serving import WORKERS, until_every_worker_listens
from tests.waiting import wait_until

pytestmark = pytest.mark.skipif(
    not Path("/proc/net/tcp").exists(), reason="finds the workers and their sockets in /proc"
)

CLIENTS = 4
RESTART_SECONDS = 60
EXIT_SECONDS = 20


class Hammer:
    """Clients sending requests back to back, each on a new connection, so that every request
    finds out whether the port accepts at that moment."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.answered = 0
        self.failures: list[str] = []
        self._stop = asyncio.Event()
        self._clients: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._clients = [asyncio.create_task(self._client()) for _ in range(CLIENTS)]

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._clients)

    async def _client(self) -> None:
        no_keep_alive = httpx.Limits(max_keepalive_connections=0)
        async with httpx.AsyncClient(
            base_url=self.base_url, timeout=10.0, limits=no_keep_alive
        ) as client:
            while not self._stop.is_set():
                try:
                    response = await client.get("/health/live")
                except httpx.HTTPError as error:
                    self.failures.append(repr(error))
                else:
                    if response.status_code != 200:
                        self.failures.append(f"{response.status_code}: {response.text}")
                self.answered += 1

    async def answers(self, more_than: int) -> bool:
        """Whether more than `more_than` requests were answered, within a few seconds."""

        async def answered() -> bool:
            return self.answered > more_than

        return await wait_until(answered, within=10, interval=0.05)


@pytest.fixture(scope="module", params=[1, WORKERS], ids=["one_worker", f"{WORKERS}_workers"])
async def api(
    module_database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> AsyncIterator[ApiService]:
    """With one worker, its slot has no other to take its connections while it is replaced.
    One service for each count, since it takes seconds to start: pytest runs a count's tests
    in the module's order, the rolling restart first, and the last one kills it."""
    log_path = tmp_path_factory.mktemp("rolling") / "api.log"
    service = ApiService(module_database_url, log_path, request.param)
    try:
        await until_every_worker_listens(service)
        yield service
    finally:
        service.kill()


async def test_a_rolling_restart_replaces_every_worker_and_refuses_no_connection(
    api: ApiService,
) -> None:
    before = set(api.workers())
    hammer = Hammer(api.base_url)
    hammer.start()
    try:
        assert await hammer.answers(more_than=20)

        api.process.send_signal(signal.SIGHUP)

        async def replaced() -> bool:
            now = set(api.workers())
            restarted = "api rolling restart done" in api.log_path.read_text(errors="replace")
            return restarted and len(now) == api.worker_count and not now & before

        assert await wait_until(replaced, RESTART_SECONDS), api.log_tail()
        assert await hammer.answers(more_than=hammer.answered + 20)
    finally:
        await hammer.stop()

    assert hammer.failures == [], hammer.failures[:5]
    assert api.returncode is None
    await until_every_worker_listens(api)


async def test_no_worker_outlives_a_killed_api(api: ApiService) -> None:
    assert len(api.processes()) > api.worker_count

    os.kill(api.pid, signal.SIGKILL)

    assert await api.wait_for_exit(EXIT_SECONDS) == -signal.SIGKILL

    async def none_left() -> bool:
        return not api.processes()

    assert await wait_until(none_left, EXIT_SECONDS), api.processes()
