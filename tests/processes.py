"""Processes the tests and the fault run start: each leads a process group of its own, and
carries a mark in its environment that every process it starts inherits.

The mark finds what the group cannot: a descendant that leads a session of its own (the worker
service's Dramatiq processes do) or was adopted by another parent when its own was killed. A
watchdog kills them all once their lifetime is over, whatever the test or the run does, so
that no server or service outlives it.
"""

import asyncio
import json
import os
import signal
import socket
import subprocess
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
HARD_TIMEOUT_SECONDS = 120.0
"""How long a test's process may live unless it says otherwise (the fault run says longer)."""
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


def kill_processes(pids: Sequence[int]) -> None:
    # All at once: a child left alive for a moment would be told its parent died, and begin a
    # stop of its own.
    for pid in pids:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


class ProcessGroup:
    """A subprocess leading its own process group, killed with every process it started after
    `lifetime` seconds; run as `user` if named (the tests then run as root)."""

    def __init__(
        self,
        command: Sequence[str],
        env: Mapping[str, str],
        log_path: Path,
        lifetime: float = HARD_TIMEOUT_SECONDS,
        user: str | None = None,
    ) -> None:
        self.log_path = log_path
        self.mark = uuid.uuid4().hex
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and programs
                list(command),
                cwd=PROJECT_ROOT,
                env={**env, MARK: self.mark},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                user=user,
                group=user,
                extra_groups=[] if user else None,
            )
        self._watchdog = threading.Timer(lifetime, self.kill)
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

    def processes(self) -> list[int]:
        """The live processes among this one and every process it started, wherever they went."""
        return processes_with_environment(MARK, self.mark)

    def kill(self) -> None:
        """Kills the process and every process it started, and reaps it."""
        self._watchdog.cancel()
        kill_processes(self.processes())
        self.signal_group(signal.SIGKILL)
        with suppress(subprocess.TimeoutExpired):  # stuck in the kernel; init will reap it
            self.process.wait(_EXIT_WAIT_SECONDS)

    async def wait_for_exit(self, within: float) -> int | None:
        """The exit code, or None if the process is still running after `within` seconds."""
        try:
            return await asyncio.to_thread(self.process.wait, within)
        except subprocess.TimeoutExpired:
            return None

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(text[-lines:])

    def log_records(self) -> list[dict[str, Any]]:
        """The JSON log lines the process and those it started wrote so far."""
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


def run_as(
    command: Sequence[str], user: str | None, timeout: float, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Runs a short command to its end, as `user`; its output is kept for the error message."""
    return subprocess.run(  # noqa: S603 - our own programs
        list(command),
        cwd=PROJECT_ROOT,
        env=dict(env if env is not None else os.environ),
        user=user,
        group=user,
        extra_groups=[] if user else None,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
