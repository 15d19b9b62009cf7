import asyncio

import asyncpg

from tests.integration.worker.histories import CheckInWriter, set_goals
from tests.integration.worker.launcher import WORKER_PROCESSES, WORKER_THREADS, WorkerServices
from tests.integration.worker.projection import (
    feed_head,
    outstanding_messages,
    projection_locks,
    relay_checkpoint,
    wait_for_convergence,
    wait_for_relay,
    wait_for_service,
    wait_until,
)
from tests.private_servers import PrivateRedis

GOALS = 20
BOOT_SECONDS = 15
OUTAGE_SECONDS = 2.5
# Messages lost with Redis come back only through the reconciler: events must age
# RECONCILE_AFTER_SECONDS, and it looks every few seconds.
CONVERGE_SECONDS = 30


async def test_projection_converges_across_a_redis_restart(
    worker_services: WorkerServices, own_redis: PrivateRedis, pool: asyncpg.Pool
) -> None:
    service = worker_services.start(redis_url=own_redis.url)
    assert await wait_for_service(service, pool, BOOT_SECONDS)
    goal_ids = await set_goals(pool, GOALS)
    # The first half gets no event after the outage: only the reconciler sends those again.
    busy_goals = goal_ids[GOALS // 2 :]
    writer = CheckInWriter(pool, goal_ids)

    async with projection_locks(pool) as locks:

        async def messages_waiting_in_redis() -> bool:
            return (
                await relay_checkpoint(pool) == await feed_head(pool)
                and await locks.waiting_projections() >= WORKER_PROCESSES * WORKER_THREADS
                and outstanding_messages(own_redis.url, worker_services.namespace) > 0
            )

        # Frozen workers let the relay's messages pile up in Redis, to be lost with it.
        await locks.hold(goal_ids)
        await writer.write_rounds(2)
        assert await wait_until(messages_waiting_in_redis, BOOT_SECONDS)
        own_redis.stop()

    written_before_outage = writer.written
    stop_writing = asyncio.Event()
    writing = asyncio.create_task(writer.write_until(stop_writing, pause=0.1, goal_ids=busy_goals))
    try:
        # Not an assertion: how long Redis stays away while check-ins keep coming.
        await asyncio.sleep(OUTAGE_SECONDS)
        written_during_outage = writer.written - written_before_outage
        own_redis.start()
        assert await writer.wait_for_more(than=writer.written + len(busy_goals), within=10)
    finally:
        stop_writing.set()
        await writing
    assert written_during_outage > 0

    gaps = await wait_for_convergence(pool, CONVERGE_SECONDS)
    checkpoint, head = await wait_for_relay(pool, CONVERGE_SECONDS)

    assert gaps == []
    assert checkpoint == head
    # The relay met the outage and carried on; the reconciler sent the lost goals again.
    assert service.logged("broker_unavailable")
    assert service.logged("reconciler_requeued")
    assert service.returncode is None
