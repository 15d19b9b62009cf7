"""A throwaway PostgreSQL of one test's own, which the test may stop, restart and freeze.

The suite's shared server is never touched: a test that needs an outage starts a server from a
cluster made and migrated once per run (`initdb` and `goals migrate`, then a copy per test), on
a free port, with its socket and data in a temporary directory. It runs as the `postgres` user
when the tests run as root, since PostgreSQL refuses to.
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

from infra.db.migrate import migrate
from infra.db.pool import create_database_if_missing
from tests.integration.worker.processes import children_of, free_port

_START_SECONDS = 20


def postgres_binaries() -> Path | None:
    """The newest installed PostgreSQL's programs, if any."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda path: int(path.parent.name)
    )
    return found[-1] if found and (found[-1] / "initdb").exists() else None


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _owned_by_postgres(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")


def make_cluster(binaries: Path) -> Path:
    """A fresh, empty cluster's data directory, in a directory of its own."""
    home = Path(tempfile.mkdtemp(prefix="goals-pg-"))
    _owned_by_postgres(home)
    data = home / "data"
    initdb = [str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]
    subprocess.run(  # noqa: S603 - PostgreSQL's own program
        _as_postgres([*initdb, "-E", "UTF8", "--no-sync"]),
        check=True,
        capture_output=True,
    )
    return data


class PrivatePostgres:
    """A server on a copy of `template` (a data directory), on its own port."""

    def __init__(self, binaries: Path, template: Path) -> None:
        self._binaries = binaries
        self.home = Path(tempfile.mkdtemp(prefix="goals-pg-"))
        self.data = self.home / "data"
        shutil.copytree(template, self.data)
        for path in (self.home, self.data, *self.data.rglob("*")):
            _owned_by_postgres(path)
        self.port = free_port()
        self.server_url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/goals"
        self.log_path = self.home / "server.log"

    def _pg_ctl(self, *arguments: str) -> None:
        subprocess.run(  # noqa: S603 - PostgreSQL's own program
            _as_postgres([str(self._binaries / "pg_ctl"), "-D", str(self.data), *arguments]),
            check=True,
            capture_output=True,
            timeout=_START_SECONDS + 10,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.home} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg_ctl(
            "-o", options, "-l", str(self.log_path), "-w", "-t", str(_START_SECONDS), "start"
        )

    def stop(self) -> None:
        """As a crash would: every session ends at once, nothing is shut down cleanly."""
        self._pg_ctl("-m", "immediate", "-w", "stop")

    def stop_cleanly(self) -> None:
        """A shutdown that leaves the data consistent: a copy of it starts without recovery."""
        self._pg_ctl("-m", "fast", "-w", "stop")

    def crash_frozen(self) -> None:
        """Ends a frozen server as a crash would, so that the statements it was holding fail
        with their connections rather than time out."""
        postmaster = self._postmaster()
        self._pg_ctl("-m", "immediate", "-W", "stop")  # the signal waits for the thaw
        self.thaw()
        deadline = time.monotonic() + _START_SECONDS
        while postmaster is not None and Path(f"/proc/{postmaster}").exists():
            assert time.monotonic() < deadline, "the server did not stop"
            time.sleep(0.05)

    def _postmaster(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def _processes(self) -> list[int]:
        postmaster = self._postmaster()
        return [] if postmaster is None else [postmaster, *children_of(postmaster)]

    def freeze(self) -> None:
        """Stops every server process where it stands: connections stay open, nothing answers."""
        for pid in self._processes():
            os.kill(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        for pid in reversed(self._processes()):
            os.kill(pid, signal.SIGCONT)

    def close(self) -> None:
        with suppress(OSError, subprocess.SubprocessError):
            self.thaw()
            self.stop()
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


@contextmanager
def private_postgres(binaries: Path, template: Path) -> Iterator[PrivatePostgres]:
    server = PrivatePostgres(binaries, template)
    try:
        server.start()
        yield server
    finally:
        server.close()


@asynccontextmanager
async def migrated_cluster(binaries: Path) -> AsyncIterator[Path]:
    """The data directory of a cluster made and migrated once, for each test's server to copy:
    `goals migrate` on a fresh cluster takes seconds, a copy of its result a fraction of one."""
    empty = make_cluster(binaries)
    try:
        with private_postgres(binaries, empty) as server:
            await server.migrate()
            server.stop_cleanly()
            yield server.data
    finally:
        shutil.rmtree(empty.parent, ignore_errors=True)
