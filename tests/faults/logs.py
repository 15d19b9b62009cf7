"""What the services' JSON logs say about the API's 500s: the exception behind each, and when."""

import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

# The line of a traceback that names the exception: `asyncpg.exceptions.DeadlockDetectedError: …`.
_EXCEPTION = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt))(?::|$)")


@dataclass(frozen=True)
class Unhandled:
    at: float
    """Seconds since the run started."""
    exception: str
    """The exception's class, without its module: `DeadlockDetectedError`."""


def _exception_of(traceback: str) -> str:
    for line in reversed(traceback.splitlines()):
        if found := _EXCEPTION.match(line.strip()):
            return found.group(1).rsplit(".", 1)[-1]
    return "unknown"


def unhandled_errors(directory: Path, wall_started: float) -> list[Unhandled]:
    """Every `unhandled_error` the API logged (each answered 500), on the run's clock."""
    found = []
    for path in sorted(directory.glob("api-*.log")):
        for line in path.read_text(errors="replace").splitlines():
            if '"unhandled_error"' not in line:
                continue
            try:
                record = json.loads(line)
                at = datetime.fromisoformat(record["timestamp"]).timestamp() - wall_started
            except (ValueError, KeyError, TypeError):
                continue
            found.append(Unhandled(at, _exception_of(str(record.get("exception", "")))))
    return found


def named(errors: list[Unhandled], start: float = float("-inf"), end: float = float("inf")) -> str:
    """`DeadlockDetectedError x4, ConnectionRefusedError x40`, for errors within [start, end]."""
    counted = Counter(error.exception for error in errors if start <= error.at <= end)
    return ", ".join(f"{name} x{count}" for name, count in counted.most_common())
