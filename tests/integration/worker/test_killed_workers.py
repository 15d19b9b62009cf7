import os
import signal
from collections.abc import Callable

import asyncpg
import pytest

from tests.integration.worker.histories import CheckInWriter, set_goals
from tests.integration.worker.launcher import WORKER_PROCESSES, WORKER_THREADS, WorkerServices
from tests.integration.worker.processes import WorkerService
from tests.integration.worker.projection import (
    projection_locks,
    wait_for_convergence,
    wait_for_relay,
    wait_for_service,
    wait_until,
)

GOALS = 30
ROUNDS_BEFORE = 8  # 30 goals set and 240 check-ins, projected as they come
BOOT_SECONDS = 15
EXIT_SECONDS = 15
# Messages a killed worker held come back only through the reconciler: events must age
# RECONCILE_AFTER_SECONDS, and it looks every few seconds.
CONVERGE_SECONDS = 30
# The first service's reconciler never acts, however slow the machine: it would re-send, before
# the kill, the goals its blocked workers hold, and the replacement's would have nothing to do.
NEVER_SECONDS = "3600"


def kill_one_worker_process(service: WorkerService) -> None:
    os.kill(service.dramatiq_workers()[0], signal.SIGKILL)


def kill_whole_service(service: WorkerService) -> None:
    """Every process of the service at once, as when its machine or container goes."""
    service.kill()


@pytest.mark.parametrize(
    "kill",
    [kill_one_worker_process, kill_whole_service],
    ids=["one_worker_process", "whole_service"],
)
async def test_projection_converges_when_workers_are_killed_mid_batch(
    worker_services: WorkerServices,
    pool: asyncpg.Pool,
    kill: Callable[[WorkerService], None],
) -> None:
    service = worker_services.start(RECONCILE_AFTER_SECONDS=NEVER_SECONDS)
    assert await wait_for_service(service, pool, BOOT_SECONDS)
    assert len(service.dramatiq_workers()) == WORKER_PROCESSES
    goal_ids = await set_goals(pool, GOALS)
    writer = CheckInWriter(pool, goal_ids)
    await writer.write_rounds(ROUNDS_BEFORE)
    assert await wait_for_convergence(pool, CONVERGE_SECONDS) == []

    async def broker_idle() -> bool:
        return worker_services.outstanding_messages() == 0

    # From here on each goal has one message at a time, so one that a killed worker held is
    # sent again by nothing but the reconciler.
    assert await wait_until(broker_idle, CONVERGE_SECONDS)

    async with projection_locks(pool) as locks:

        async def every_worker_thread_mid_projection() -> bool:
            return await locks.waiting_projections() >= WORKER_PROCESSES * WORKER_THREADS

        # Workers take the first goals' messages and wait inside their projection
        # transactions, holding them, while the other messages queue up behind.
        await locks.hold(goal_ids)
        await writer.write_round()
        assert await wait_until(every_worker_thread_mid_projection, BOOT_SECONDS)
        # The relay's pass over the round committed: a kill in the midst of it would leave the
        # replacement's relay to send the whole round again, and the reconciler nothing to do.
        checkpoint, head = await wait_for_relay(pool, CONVERGE_SECONDS)
        assert checkpoint == head
        kill(service)
    # A dead worker process stops the whole service, so that its supervisor restarts it.
    exit_code = await service.wait_for_exit(EXIT_SECONDS)
    assert exit_code is not None
    assert exit_code != 0
    assert worker_services.messages_held_by_departed_workers() > 0

    # Only the later goals, none of which a worker had taken, get events while it is down.
    await writer.write_round(goal_ids[GOALS // 2 :])
    replacement = worker_services.start()
    gaps = await wait_for_convergence(pool, CONVERGE_SECONDS)
    checkpoint, head = await wait_for_relay(pool, CONVERGE_SECONDS)

    assert gaps == []
    assert checkpoint == head
    # Nothing else sent the first goals again: their messages left with the killed workers.
    assert not service.logged("reconciler_requeued")
    assert replacement.logged("reconciler_requeued")
    assert replacement.returncode is None
