"""Processes the fault run starts: each leads a process group of its own, which one signal ends.

A watchdog kills each group once its lifetime is over, whatever became of the run that started
it, so that no server or service outlives a run that was itself killed mid-way.
"""

import os
import signal
import subprocess
import threading
from collections.abc import Mapping, Sequence
from contextlib import suppress
from pathlib import Path

from tests.integration.worker.processes import PROJECT_ROOT, children_of, command_line, free_port

__all__ = ["PROJECT_ROOT", "ProcessGroup", "children_of", "command_line", "free_port"]

_EXIT_WAIT_SECONDS = 10.0
_LOG_TAIL_LINES = 40


def group_members(pgid: int) -> list[int]:
    """Live processes of the process group `pgid`, read from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # the process ended while we looked
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def kill_group(pgid: int) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


class ProcessGroup:
    """A subprocess leading its own process group, killed with it after `lifetime` seconds."""

    def __init__(
        self,
        command: Sequence[str],
        env: Mapping[str, str],
        log_path: Path,
        lifetime: float,
        user: str | None = None,
    ) -> None:
        self.log_path = log_path
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and programs
                list(command),
                cwd=PROJECT_ROOT,
                env=dict(env),
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

    def kill(self) -> None:
        """Kills the process and every descendant still in its group, and reaps it."""
        self._watchdog.cancel()
        kill_group(self.pid)
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
