"""`goals api` and `goals worker` as real processes, each kept running as a plain supervisor
would: restarted a moment after it exits, however it exited, and every exit recorded.

A service killed with `kill -9` on its main process only leaves the processes it started to
themselves, as it would under such a supervisor; what is left of them is recorded, then killed.
They are found by the mark in their environment, not by their process group: the worker
service's Dramatiq processes lead a session of their own.
"""

import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tests.processes import ProcessGroup, children_of, command_line, kill_processes

RESTART_DELAY_SECONDS = 1.0
# How long what is left of a dead service has to end by itself before it counts.
LEFT_OVER_GRACE_SECONDS = 3.0
MAX_STARTS = 60
_ERROR_LEVELS = ('"level": "error"', '"level": "critical"', "Traceback", "Error:")


@dataclass(frozen=True)
class Exit:
    service: str
    at: float
    """Seconds since the run started."""
    code: int | None
    last_error: str
    """The last line of the service's log that reads as an error, to say why it exited."""


@dataclass
class LeftOver:
    """Processes a service started, still running after its main process had exited."""

    service: str
    pids: list[int]
    at: float


def last_error_line(log_path: Path) -> str:
    """The last error the log holds, shortly: `relay_failed: InterfaceError: ...`."""
    try:
        lines = log_path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    errors = [line for line in lines if any(mark in line for mark in _ERROR_LEVELS)]
    last = (errors or lines or [""])[-1]
    try:
        record = json.loads(last)
    except ValueError:
        return last[:300]
    if not isinstance(record, dict):
        return last[:300]
    cause = str(record.get("exception") or record.get("error") or "").strip().splitlines()[-1:]
    return f"{record.get('event')}: {cause[0] if cause else ''}"[:300]


@dataclass
class SupervisedService:
    """One command of the service, started again whenever it exits, up to `MAX_STARTS` times."""

    name: str
    arguments: list[str]
    env: Mapping[str, str]
    log_dir: Path
    lifetime: float
    clock: Callable[[], float]
    exits: list[Exit] = field(default_factory=list)
    left_over: list[LeftOver] = field(default_factory=list)
    current: ProcessGroup | None = None
    starts: int = 0
    _exited_at: float | None = None
    _departed: list[tuple[ProcessGroup, float]] = field(default_factory=list)
    """Exited processes, with when they exited, whose descendants are still to be looked at."""

    def start(self) -> ProcessGroup:
        self.starts += 1
        log_path = self.log_dir / f"{self.name}-{self.starts}.log"
        command = [sys.executable, "-m", "services.cli", *self.arguments]
        self.current = ProcessGroup(command, self.env, log_path, self.lifetime)
        self._exited_at = None
        return self.current

    def supervise(self) -> None:
        """One look, as the supervisor's loop takes it: records an exit, restarts after a delay."""
        self._look_for_left_overs()
        process = self.current
        if process is None:
            return
        if self._exited_at is None:
            code = process.returncode
            if code is None:
                return
            self._exited_at = self.clock()
            self.exits.append(
                Exit(self.name, self._exited_at, code, last_error_line(process.log_path))
            )
            self._departed.append((process, self._exited_at))
        if self.clock() - self._exited_at < RESTART_DELAY_SECONDS or self.starts >= MAX_STARTS:
            return
        self.start()

    def _look_for_left_overs(self) -> None:
        """Records what is left of a departed process after its grace, and ends it."""
        for departed in list(self._departed):
            process, exited_at = departed
            if self.clock() - exited_at < LEFT_OVER_GRACE_SECONDS:
                continue
            self._departed.remove(departed)
            if survivors := process.processes():
                self.left_over.append(LeftOver(self.name, survivors, exited_at))
                kill_processes(survivors)

    def departures_pending(self) -> int:
        return len(self._departed)

    def running(self) -> bool:
        return self.current is not None and self.current.returncode is None

    def log_text(self) -> str:
        if self.current is None:
            return ""
        try:
            return self.current.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def close(self) -> None:
        if self.current is not None:
            self.current.kill()
        for process, _ in self._departed:
            process.kill()


def api_workers(api: SupervisedService) -> list[int]:
    """The uvicorn worker processes of `goals api`: its spawned children."""
    if not api.running() or api.current is None:
        return []
    return [pid for pid in children_of(api.current.pid) if "spawn_main" in command_line(pid)]


def dramatiq_parent(worker: SupervisedService) -> int | None:
    if not worker.running() or worker.current is None:
        return None
    for pid in children_of(worker.current.pid):
        if "-m dramatiq" in command_line(pid):
            return pid
    return None


def dramatiq_workers(worker: SupervisedService) -> list[int]:
    parent = dramatiq_parent(worker)
    return [] if parent is None else children_of(parent)


def worker_ready(worker: SupervisedService, processes: int) -> bool:
    """Whether every Dramatiq worker process of the running service has started consuming."""
    return worker.running() and worker.log_text().count("ready for action") >= processes
