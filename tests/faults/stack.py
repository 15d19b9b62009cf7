"""The system under test, whole: a throwaway PostgreSQL and Redis, `goals api` with two
workers and `goals worker`, each supervised, and a clinic with goals to write to."""

import asyncio
import os
import secrets
import sys
import time
from pathlib import Path

import asyncpg
import httpx

from tests.faults.services import SupervisedService, api_workers, worker_ready
from tests.faults.world import World, admin_token_from, build_world
from tests.private_servers import PrivatePostgres, PrivateRedis, postgres_binaries
from tests.processes import free_port, run_as
from tests.servers import service_url
from tests.waiting import wait_until

API_WORKERS = 2
WORKER_PROCESSES = 2
START_SECONDS = 60.0
_SUPERVISE_EVERY = 0.2
_CONNECT_SECONDS = 2.0


class Stack:
    def __init__(self, directory: Path, lifetime: float) -> None:
        """`lifetime`: how long any process of the stack may live, whatever becomes of the run."""
        self.directory = directory
        self.lifetime = lifetime
        self.started_at = time.monotonic()
        self.wall_started = time.time()
        binaries = postgres_binaries()
        if binaries is None:
            raise RuntimeError("no PostgreSQL programs for the run's own server: set POSTGRES_BIN")
        self.postgres = PrivatePostgres(binaries, lifetime=lifetime)
        self.redis = PrivateRedis(directory / "redis.log", lifetime)
        self.database_url = self.postgres.url
        self.api_port = free_port()
        self.base_url = f"http://127.0.0.1:{self.api_port}"
        self.env = {
            **os.environ,
            # The service runs as its own restricted login, and migrates as the superuser.
            "DATABASE_URL": service_url(self.database_url),
            "MIGRATION_DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis.url,
            "BROKER_NAMESPACE": "goals_faults",
            "API_HOST": "127.0.0.1",
            "API_PORT": str(self.api_port),
            "API_WORKERS": str(API_WORKERS),
            "WORKER_PROCESSES": str(WORKER_PROCESSES),
            "WORKER_THREADS": "2",
            "RECONCILE_AFTER_SECONDS": "2",
            # A few people write as fast as the service answers: per-user limits would refuse
            # most of the load, which is here to meet the faults.
            "RATE_LIMIT_REQUESTS": "0",
            "TOKEN_HASH_KEY": secrets.token_hex(32),
            "LOG_FORMAT": "json",
            "PYTHONUNBUFFERED": "1",
        }
        self.api = SupervisedService("api", ["api"], self.env, directory, lifetime, self.clock)
        self.worker = SupervisedService(
            "worker", ["worker"], self.env, directory, lifetime, self.clock
        )
        self._supervisor: asyncio.Task[None] | None = None
        self.world: World | None = None

    def clock(self) -> float:
        """Seconds since the stack was made: every time in the run's history is on this clock."""
        return time.monotonic() - self.started_at

    def _goals(self, *arguments: str) -> str:
        done = run_as([sys.executable, "-m", "services.cli", *arguments], None, 60, self.env)
        if done.returncode != 0:
            raise RuntimeError(f"goals {' '.join(arguments)} failed: {done.stdout}{done.stderr}")
        return done.stdout

    async def start(self, clients: int, goals_per_client: int) -> World:
        await asyncio.to_thread(self.postgres.start)
        await asyncio.to_thread(self.redis.start)
        await asyncio.to_thread(self._goals, "migrate")
        created = await asyncio.to_thread(
            self._goals, "create-clinic", "Fault run", "--admin-email", "admin@faults.example"
        )
        self.api.start()
        self.worker.start()
        self._supervisor = asyncio.create_task(self._supervise())
        if not await wait_until(self.api_ready, START_SECONDS):
            raise RuntimeError(f"goals api did not become ready:\n{self.api.log_text()[-3000:]}")
        if not await wait_until(self.worker_ready, START_SECONDS):
            raise RuntimeError(f"goals worker did not start:\n{self.worker.log_text()[-3000:]}")
        async with httpx.AsyncClient(base_url=self.base_url, timeout=30) as api:
            self.world = await build_world(
                api, admin_token_from(created), clients, goals_per_client
            )
        return self.world

    async def _supervise(self) -> None:
        while self.clock() < self.lifetime:
            self.api.supervise()
            self.worker.supervise()
            await asyncio.sleep(_SUPERVISE_EVERY)

    async def api_ready(self) -> bool:
        if len(api_workers(self.api)) < API_WORKERS:
            return False
        try:
            async with httpx.AsyncClient(base_url=self.base_url, timeout=2) as api:
                return (await api.get("/health/ready")).status_code == 200
        except httpx.HTTPError:
            return False

    async def worker_ready(self) -> bool:
        return worker_ready(self.worker, WORKER_PROCESSES)

    async def whole(self) -> bool:
        """Every process up: two API workers answering, the Dramatiq workers consuming."""
        return await self.api_ready() and await self.worker_ready()

    async def connect(self) -> asyncpg.Connection:
        """A connection of the checker's own, which gives up quickly on a server that is away."""
        conn: asyncpg.Connection = await asyncpg.connect(
            self.database_url, timeout=_CONNECT_SECONDS, command_timeout=30
        )
        return conn

    async def close(self) -> None:
        if self._supervisor is not None:
            self._supervisor.cancel()
            await asyncio.gather(self._supervisor, return_exceptions=True)
        for close in (self.worker.close, self.api.close, self.redis.close, self.postgres.close):
            try:
                close()
            except Exception as error:
                sys.stderr.write(f"closing the stack: {error!r}\n")
