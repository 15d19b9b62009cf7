import os
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from uuid import UUID

import asyncpg
import pytest

from tests.integration.worker.histories import CheckInWriter, set_goals
from tests.integration.worker.launcher import WorkerServices
from tests.integration.worker.processes import WorkerService
from tests.integration.worker.projection import (
    projected_goal_ids,
    relay_checkpoint,
    wait_for_convergence,
    wait_for_relay,
    wait_for_service,
    wait_until,
)

GOALS = 10
ROUNDS = 3
CONVERGE_SECONDS = 15
STOP_SECONDS = 15


@dataclass(frozen=True)
class Stop:
    send: Callable[[WorkerService], Awaitable[None]]
    clean: bool
    """Whether the service must report a clean exit, 0."""


async def sigterm_to_service(service: WorkerService) -> None:
    os.kill(service.pid, signal.SIGTERM)


async def sigterm_to_group(service: WorkerService) -> None:
    service.signal_group(signal.SIGTERM)


async def sigint_to_group(service: WorkerService) -> None:
    service.signal_group(signal.SIGINT)


STOPS = {
    # How a container runtime stops its main process.
    "sigterm_to_service": Stop(sigterm_to_service, clean=True),
    # How a service manager stops every process of a unit. Dramatiq forwards the signal to its
    # worker processes, which may then get it twice and end at once rather than cleanly.
    "sigterm_to_group": Stop(sigterm_to_group, clean=False),
    # Ctrl-C in the terminal that started the service: the service, and then Dramatiq,
    # signal the worker processes once more.
    "sigint_to_group": Stop(sigint_to_group, clean=False),
}


def _projected_by(service: WorkerService) -> set[UUID]:
    return {UUID(record["goal_id"]) for record in service.logged("goal_projected")}


@pytest.mark.parametrize("stop", STOPS.values(), ids=STOPS.keys())
async def test_a_restarted_service_resumes_relaying_from_its_checkpoint(
    worker_services: WorkerServices, pool: asyncpg.Pool, stop: Stop
) -> None:
    first = worker_services.start()
    assert await wait_for_service(first, pool, CONVERGE_SECONDS)
    earlier_goals = await set_goals(pool, GOALS)
    await CheckInWriter(pool, earlier_goals).write_rounds(ROUNDS)
    assert await wait_for_convergence(pool, CONVERGE_SECONDS) == []
    checkpoint, head = await wait_for_relay(pool, CONVERGE_SECONDS)
    assert checkpoint == head

    async def broker_idle() -> bool:
        return worker_services.outstanding_messages() == 0

    # A message still queued now would reach the next service and blur what it relayed.
    assert await wait_until(broker_idle, CONVERGE_SECONDS)

    await stop.send(first)
    exit_code = await first.wait_for_exit(STOP_SECONDS)
    assert exit_code is not None
    if stop.clean:
        assert exit_code == 0

    later_goals = await set_goals(pool, GOALS)
    await CheckInWriter(pool, later_goals).write_rounds(ROUNDS)
    # Nothing relays or projects while the service is down.
    assert await relay_checkpoint(pool) == checkpoint
    assert not await projected_goal_ids(pool) & set(later_goals)

    second = worker_services.start()
    gaps = await wait_for_convergence(pool, CONVERGE_SECONDS)
    resumed_at, head = await wait_for_relay(pool, CONVERGE_SECONDS)

    async def later_goals_logged() -> bool:
        return _projected_by(second) >= set(later_goals)

    await wait_until(later_goals_logged, CONVERGE_SECONDS)

    assert gaps == []
    assert resumed_at == head
    assert resumed_at > checkpoint
    # Started from its checkpoint, not from the beginning: it sent no earlier goal again.
    assert _projected_by(second) == set(later_goals)
