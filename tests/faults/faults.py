"""The faults: each breaks one part of the running stack, and says when the break is over.

An injection returns what it noticed itself (a rebuild that failed, for instance); whether the
stack recovered is measured afterwards, the same way for every fault (see `observe.py`).
"""

import asyncio
import os
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from tests.faults.rebuild import rebuild
from tests.faults.services import api_workers, dramatiq_workers
from tests.faults.stack import API_WORKERS, Stack
from tests.waiting import wait_until

REDIS_DOWN_SECONDS = 2.0
POSTGRES_DOWN_SECONDS = 3.0
POSTGRES_FROZEN_SECONDS = 4.0
REPLACED_SECONDS = 15.0

Inject = Callable[[Stack], Awaitable[list[str]]]


@dataclass(frozen=True)
class Fault:
    name: str
    what: str
    inject: Inject
    exits: dict[str, int] = field(default_factory=dict)
    """How many times each service may exit because of it: the one it kills. Any other exit,
    or one more, is a finding."""


async def kill_api_worker(stack: Stack) -> list[str]:
    workers = api_workers(stack.api)
    if not workers:
        return ["no API worker was running to kill"]
    os.kill(workers[0], signal.SIGKILL)
    return []


async def kill_dramatiq_workers(stack: Stack) -> list[str]:
    workers = dramatiq_workers(stack.worker)
    if not workers:
        return ["no Dramatiq worker process was running to kill"]
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    return []


async def kill_relay(stack: Stack) -> list[str]:
    if stack.worker.current is None or not stack.worker.running():
        return ["goals worker was not running to kill"]
    os.kill(stack.worker.current.pid, signal.SIGKILL)
    return []


async def restart_redis(stack: Stack) -> list[str]:
    await asyncio.to_thread(stack.redis.stop)
    await asyncio.sleep(REDIS_DOWN_SECONDS)  # the outage itself
    await asyncio.to_thread(stack.redis.start)
    return []


async def restart_postgres(stack: Stack) -> list[str]:
    await asyncio.to_thread(stack.postgres.stop)
    await asyncio.sleep(POSTGRES_DOWN_SECONDS)  # the outage itself
    await asyncio.to_thread(stack.postgres.start)
    return []


async def kill_api_worker_while_postgres_is_down(stack: Stack) -> list[str]:
    """The replacement worker must start, and find its database away, within the outage."""
    await asyncio.to_thread(stack.postgres.stop)
    try:
        killed = api_workers(stack.api)[:1]
        noticed = await kill_api_worker(stack)

        async def replaced() -> bool:
            workers = api_workers(stack.api)
            return len(workers) == API_WORKERS and not set(killed) & set(workers)

        if not await wait_until(replaced, REPLACED_SECONDS):
            noticed.append(f"the killed API worker was not replaced within {REPLACED_SECONDS} s")
        await asyncio.sleep(POSTGRES_DOWN_SECONDS)  # the outage itself, with the replacement up
    finally:
        await asyncio.to_thread(stack.postgres.start)
    return noticed


async def freeze_postgres(stack: Stack) -> list[str]:
    stack.postgres.freeze()
    try:
        await asyncio.sleep(POSTGRES_FROZEN_SECONDS)  # the outage itself
    finally:
        stack.postgres.thaw()
    return []


async def rebuild_under_load(stack: Stack) -> list[str]:
    done = await rebuild(stack.env)
    noticed = []
    if done.exit_code != 0:
        noticed.append(f"goals projections rebuild exited {done.exit_code}: {done.last_line}")
    conn = await stack.connect()
    try:
        rows = await conn.fetch(
            "SELECT goal_id, error FROM projection_dead_letters ORDER BY position"
        )
    finally:
        await conn.close()
    if rows:
        noticed.append(
            f"{len(rows)} dead letters after the rebuild, which said {done.last_line!r} and "
            f"exited {done.exit_code}; first: goal {rows[0]['goal_id']}: {rows[0]['error']}"
        )
    return noticed


FAULTS = {
    fault.name: fault
    for fault in (
        Fault("kill_api_worker", f"kill -9 of one of the {API_WORKERS} API workers",
              kill_api_worker),
        Fault("kill_dramatiq_workers", "kill -9 of every Dramatiq worker process",
              kill_dramatiq_workers, {"worker": 1}),
        Fault("kill_relay", "kill -9 of the relay (the `goals worker` process)", kill_relay,
              {"worker": 1}),
        Fault("restart_redis", f"Redis stopped, started again {REDIS_DOWN_SECONDS:.0f} s later",
              restart_redis),
        Fault("restart_postgres", "PostgreSQL stopped in immediate mode, started again "
              f"{POSTGRES_DOWN_SECONDS:.0f} s later", restart_postgres),
        Fault("kill_api_worker_while_postgres_is_down", "kill -9 of an API worker while "
              f"PostgreSQL is stopped, until {POSTGRES_DOWN_SECONDS:.0f} s after its replacement "
              "started",
              kill_api_worker_while_postgres_is_down),
        Fault("freeze_postgres", "every PostgreSQL process stopped (SIGSTOP) for "
              f"{POSTGRES_FROZEN_SECONDS:.0f} s, then continued", freeze_postgres),
        Fault("rebuild", "`goals projections rebuild` while the clients write",
              rebuild_under_load),
    )
}  # fmt: skip
