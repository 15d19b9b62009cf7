import asyncpg

from tests.integration.worker.histories import CheckInWriter, set_goals
from tests.integration.worker.launcher import WorkerServices
from tests.integration.worker.processes import WorkerService
from tests.integration.worker.projection import (
    wait_for_convergence,
    wait_for_relay,
    wait_for_service,
    wait_until,
)

BOOT_SECONDS = 15
# The relay is woken by each commit; a few seconds covers the hops to a worker and back.
PROMPT_SECONDS = 5
GOALS = 5
ROUNDS = 4


def applied_by_workers(service: WorkerService) -> int:
    return sum(
        record["applied"]
        for record in service.logged("goal_projected")
        if record["consumer"] == "goal_summaries"
    )


async def test_events_written_while_the_service_runs_are_projected_promptly(
    worker_services: WorkerServices, pool: asyncpg.Pool
) -> None:
    # The reconciler waits far longer than the test, so only the relay's messages count.
    service = worker_services.start(RECONCILE_AFTER_SECONDS="600")
    assert await wait_for_service(service, pool, BOOT_SECONDS)

    goal_ids = await set_goals(pool, GOALS)
    await CheckInWriter(pool, goal_ids).write_rounds(ROUNDS)
    gaps = await wait_for_convergence(pool, PROMPT_SECONDS)
    checkpoint, head = await wait_for_relay(pool, PROMPT_SECONDS)

    async def every_event_applied_by_a_worker() -> bool:
        return applied_by_workers(service) >= GOALS * (1 + ROUNDS)

    await wait_until(every_event_applied_by_a_worker, PROMPT_SECONDS)

    assert gaps == []
    assert checkpoint == head
    assert applied_by_workers(service) == GOALS * (1 + ROUNDS)
    assert service.logged("reconciler_requeued") == []
    assert service.returncode is None
