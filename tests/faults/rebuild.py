"""A fresh rebuild against the projection the workers built: the two must be equal."""

import asyncio
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from infra.db.connection import Connection
from infra.projections.goal_summaries import SUMMARY_COLUMNS
from tests.faults.recount import comparable_summary
from tests.processes import PROJECT_ROOT

REBUILD_SECONDS = 120.0


@dataclass(frozen=True)
class Rebuilt:
    exit_code: int | None
    """None when it did not end within its time."""
    output: str

    @property
    def last_line(self) -> str:
        lines = [line for line in self.output.splitlines() if line.strip()]
        return lines[-1][-300:] if lines else ""


async def rebuild(env: Mapping[str, str], within: float = REBUILD_SECONDS) -> Rebuilt:
    """`goals projections rebuild`, as an operator runs it."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.cli",
        "projections",
        "rebuild",
        cwd=PROJECT_ROOT,
        env={**os.environ, **env},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), within)
    except TimeoutError:
        return Rebuilt(None, f"still running after {within:.0f} s")
    finally:
        if process.returncode is None:  # timed out, or the run itself was cancelled
            process.kill()
            await process.wait()
    return Rebuilt(process.returncode, output.decode(errors="replace"))


@dataclass(frozen=True)
class Snapshot:
    summaries: dict[Any, dict[str, Any]]
    check_ins: dict[Any, tuple[Any, ...]]
    dead_letters: dict[Any, str]


async def snapshot(conn: Connection) -> Snapshot:
    columns = ", ".join(SUMMARY_COLUMNS)
    summaries = {
        row["goal_id"]: comparable_summary(tuple(row))
        for row in await conn.fetch(f"SELECT {columns} FROM goal_summaries")
    }
    check_ins = {
        row[0]: tuple(row)[1:]
        for row in await conn.fetch(
            "SELECT check_in_id, goal_id, amount, occurred_at, entered_in_error FROM goal_check_ins"
        )
    }
    dead = {
        row["event_id"]: f"goal {row['goal_id']} @{row['position']}: {row['error']}"
        for row in await conn.fetch("SELECT * FROM projection_dead_letters")
    }
    return Snapshot(summaries, check_ins, dead)


def differences(incremental: Snapshot, rebuilt: Snapshot) -> list[str]:
    """How the rebuilt projection differs from the one the workers built, goal by goal."""
    found = []
    for goal_id in sorted(incremental.summaries.keys() | rebuilt.summaries.keys(), key=str):
        before, after = incremental.summaries.get(goal_id), rebuilt.summaries.get(goal_id)
        if before is None or after is None:
            found.append(
                f"goal {goal_id}: summary {'only after' if before is None else 'lost'} the rebuild"
            )
            continue
        changed = [
            _change(name, before[name], after[name])
            for name in SUMMARY_COLUMNS
            if before[name] != after[name]
        ]
        if changed:
            found.append(f"goal {goal_id}: the rebuild changed {'; '.join(changed)}")
    moved = {
        key
        for key in incremental.check_ins.keys() | rebuilt.check_ins.keys()
        if incremental.check_ins.get(key) != rebuilt.check_ins.get(key)
    }
    if moved:
        found.append(
            f"{len(moved)} check-in rows differ after the rebuild, e.g. {sorted(moved, key=str)[0]}"
        )
    found += [
        f"the rebuild dead-lettered {text}"
        for key, text in rebuilt.dead_letters.items()
        if key not in incremental.dead_letters
    ]
    return found


def _change(name: str, before: Any, after: Any) -> str:
    if isinstance(before, dict) and isinstance(after, dict):
        keys = sorted(
            key for key in before.keys() | after.keys() if before.get(key) != after.get(key)
        )
        return "; ".join(f"{name}.{key} {before.get(key)!r} -> {after.get(key)!r}" for key in keys)
    return f"{name} {before!r} -> {after!r}"
