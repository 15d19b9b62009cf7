"""Processes the fault run starts: each leads a process group of its own, and carries a mark in
its environment that every process it starts inherits.

The mark finds what the group cannot: a descendant that leads a session of its own (the worker
service's Dramatiq processes do) or was adopted by another parent when its own was killed. A
watchdog kills them all once their lifetime is over, whatever became of the run that started
them, so that no server or service outlives a run that was itself killed mid-way.
"""

import os
import signal
import subprocess
import threading
import uuid
from collections.abc import Mapping, Sequence
from contextlib import suppress
from pathlib import Path

from tests.integration.worker.processes import (
    MARK,
    PROJECT_ROOT,
    children_of,
    command_line,
    free_port,
    processes_with_environment,
)

__all__ = ["PROJECT_ROOT", "ProcessGroup", "children_of", "command_line", "free_port"]

_EXIT_WAIT_SECONDS = 10.0
_LOG_TAIL_LINES = 40


def kill_processes(pids: Sequence[int]) -> None:
    # All at once: a child left alive for a moment would be told its parent died, and begin a
    # stop of its own.
    for pid in pids:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


class ProcessGroup:
    """A subprocess leading its own process group, killed with every process it started after
    `lifetime` seconds."""

    def __init__(
        self,
        command: Sequence[str],
        env: Mapping[str, str],
        log_path: Path,
        lifetime: float,
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

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(text[-lines:])


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
