"""A PostgreSQL and a Redis of the run's own, which it may stop, restart and freeze.

The machine's shared servers are never touched: each throwaway server has a free port, a
directory of its own, and a process group that the run kills on its way out.
"""

import os
import shutil
import signal
import tempfile
import time
from contextlib import suppress
from pathlib import Path

import redis

from tests.faults.processes import ProcessGroup, children_of, free_port, run_as

# initdb and postgres refuse to run as root: as root, the server runs as the postgres user.
POSTGRES_USER = "postgres" if os.geteuid() == 0 else None
_START_SECONDS = 30.0


def postgres_bin() -> Path:
    """`POSTGRES_BIN`, or the newest PostgreSQL under /usr/lib/postgresql, or the one on PATH."""
    if named := os.environ.get("POSTGRES_BIN"):
        return Path(named)
    installed = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda path: int(path.parent.name)
    )
    if installed:
        return installed[-1]
    found = shutil.which("postgres")
    if found is None:
        raise RuntimeError("no PostgreSQL binaries: set POSTGRES_BIN")
    return Path(found).parent


class ThrowawayPostgres:
    """A PostgreSQL cluster in a directory of its own, on a free port, trusting local users."""

    def __init__(self, lifetime: float) -> None:
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._bin = postgres_bin()
        # Outside the run's own directory, which the postgres user may not be able to enter.
        self.directory = Path(tempfile.mkdtemp(prefix="goals-faults-postgres-"))
        if POSTGRES_USER is not None:
            shutil.chown(self.directory, POSTGRES_USER, POSTGRES_USER)
        self.log_path = self.directory / "postgres.log"
        self._data = self.directory / "data"
        self._lifetime = lifetime
        self._server: ProcessGroup | None = None
        self._frozen: list[int] = []
        self._postgres(
            "initdb", "-D", str(self._data), "-U", "postgres", "--auth=trust", "--no-sync",
            "--encoding=UTF8", "--locale=C",
        )  # fmt: skip

    def _postgres(self, program: str, *arguments: str) -> str:
        done = run_as([str(self._bin / program), *arguments], POSTGRES_USER, _START_SECONDS)
        if done.returncode != 0:
            raise RuntimeError(f"{program} failed ({done.returncode}): {done.stdout}{done.stderr}")
        return done.stdout

    def start(self) -> None:
        command = [
            str(self._bin / "postgres"), "-D", str(self._data), "-p", str(self.port),
            "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self._data}",
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
    def postmaster(self) -> int:
        if self._server is None:
            raise RuntimeError("postgres is not running")
        return self._server.pid

    def stop_immediately(self) -> None:
        """`pg_ctl stop -m immediate`: every process ends at once, with no checkpoint; the next
        start recovers from the write-ahead log."""
        self._postgres("pg_ctl", "stop", "-D", str(self._data), "-m", "immediate", "-w")
        if self._server is not None:
            self._server.kill()  # reaps the postmaster, which has already exited
            self._server = None

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
        if self._server is not None:
            for pid in children_of(self._server.pid):
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self._server.kill()
            self._server = None
        shutil.rmtree(self.directory, ignore_errors=True)


class ThrowawayRedis:
    """A redis-server on a free port, without persistence: a restart loses every message."""

    def __init__(self, directory: Path, lifetime: float) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._log_path = directory / "redis.log"
        self._lifetime = lifetime
        self._server: ProcessGroup | None = None

    def start(self) -> None:
        command = [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--daemonize", "no",
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
        if self._server is None:
            return
        self._server.process.terminate()
        with suppress(Exception):
            self._server.process.wait(10)
        self._server.kill()
        self._server = None

    def close(self) -> None:
        self.stop()
