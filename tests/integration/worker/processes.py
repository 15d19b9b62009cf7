"""The worker service as a real process, as an operator starts it (tests/processes.py says how
its processes are found and killed)."""

import sys
from collections.abc import Mapping
from pathlib import Path

from tests.processes import ProcessGroup, children_of, command_line


class WorkerService(ProcessGroup):
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
