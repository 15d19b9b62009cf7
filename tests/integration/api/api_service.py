"""`goals api` as an operator starts it, in processes of its own, on a test's own database and
port, with the test's settings."""

import asyncio
import os
import sys
import time
from pathlib import Path

import httpx

from tests.integration.api.world import TOKEN_KEY
from tests.processes import ProcessGroup, children_of, command_line, free_port

READY_SECONDS = 30.0

SHORT_TIME_LIMITS = {
    "DATABASE_ACQUIRE_TIMEOUT_SECONDS": "1",
    "DATABASE_COMMAND_TIMEOUT_SECONDS": "1",
    "DATABASE_STATEMENT_TIMEOUT_SECONDS": "1",
}
"""Short limits, so that an outage shows within a test's few seconds."""


class ApiService(ProcessGroup):
    """`python -m services.cli api` with `workers` worker processes, on `port` (a free one
    unless named); `settings` add to or replace its environment."""

    def __init__(
        self,
        database_url: str,
        log_path: Path,
        workers: int = 2,
        port: int | None = None,
        /,
        **settings: str,
    ) -> None:
        self.port = free_port() if port is None else port
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.worker_count = workers
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "API_HOST": "127.0.0.1",
            "API_PORT": str(self.port),
            "API_WORKERS": str(workers),
            "LOG_FORMAT": "json",
            "TOKEN_HASH_KEY": TOKEN_KEY,
            "PYTHONUNBUFFERED": "1",
            # Limits are their own tests' subject, which set them; elsewhere a client sends
            # bursts that a limit would refuse.
            "RATE_LIMIT_REQUESTS": "0",
            **settings,
        }
        super().__init__([sys.executable, "-m", "services.cli", "api"], env, log_path)

    def workers(self) -> list[int]:
        """The worker processes; the supervisor's multiprocessing helper is not one of them."""
        return [
            pid
            for pid in children_of(self.pid)
            if "multiprocessing.spawn" in (line := command_line(pid))
            and "resource_tracker" not in line
        ]

    async def until_live(self, within: float = READY_SECONDS) -> None:
        """Until every worker runs and the API answers."""
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(base_url=self.base_url, timeout=2.0) as client:
            while True:
                assert self.returncode is None, self.log_tail()
                try:
                    live = (await client.get("/health/live")).status_code == 200
                except httpx.TransportError:
                    live = False
                if live and len(self.workers()) == self.worker_count:
                    return
                assert time.monotonic() < deadline, self.log_tail()
                await asyncio.sleep(0.1)
