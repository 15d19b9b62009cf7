"""The worker service's processes: none outlives it, and a stop sent to its group is clean."""

import os
import signal
import sys
from pathlib import Path

import asyncpg

from tests.integration.worker.histories import CheckInWriter, set_goals
from tests.integration.worker.launcher import WORKER_PROCESSES, WORKER_THREADS, WorkerServices
from tests.integration.worker.projection import (
    projection_locks,
    wait_for_convergence,
    wait_for_relay,
    wait_for_service,
    wait_until,
)
from tests.processes import ProcessGroup, command_line, free_port

GOALS = 20
BOOT_SECONDS = 20
EXIT_SECONDS = 20
CONVERGE_SECONDS = 30


def described(pids: list[int]) -> list[str]:
    return [f"{pid}: {command_line(pid)}" for pid in pids]


async def no_process_left(service: ProcessGroup) -> bool:
    return not service.processes()


async def test_no_dramatiq_process_outlives_a_killed_worker_service(
    worker_services: WorkerServices, pool: asyncpg.Pool
) -> None:
    service = worker_services.start()
    assert await wait_for_service(service, pool, BOOT_SECONDS)
    # The service, Dramatiq's main process and its worker processes.
    assert len(service.processes()) == 2 + WORKER_PROCESSES, described(service.processes())

    os.kill(service.pid, signal.SIGKILL)

    assert await service.wait_for_exit(EXIT_SECONDS) == -signal.SIGKILL
    left = await wait_until(lambda: no_process_left(service), EXIT_SECONDS)
    assert left, described(service.processes())


def start_serve(worker_services: WorkerServices, log_path: Path) -> ProcessGroup:
    env = worker_services.environment(
        API_HOST="127.0.0.1", API_PORT=str(free_port()), API_WORKERS="2"
    )
    return ProcessGroup([sys.executable, "-m", "services.cli", "serve"], env, log_path)


async def wait_for_serve(serve: ProcessGroup) -> bool:
    async def all_started() -> bool:
        # serve, the API's supervisor and its two workers, the worker service, Dramatiq's main
        # process and its worker processes (a multiprocessing helper may come and go).
        return len(serve.processes()) >= 6 + WORKER_PROCESSES

    return await wait_until(all_started, BOOT_SECONDS)


async def test_no_process_outlives_a_killed_serve(
    worker_services: WorkerServices, tmp_path: Path
) -> None:
    serve = start_serve(worker_services, tmp_path / "serve.log")
    try:
        assert await wait_for_serve(serve), serve.log_tail()

        os.kill(serve.pid, signal.SIGKILL)

        assert await serve.wait_for_exit(EXIT_SECONDS) == -signal.SIGKILL
        left = await wait_until(lambda: no_process_left(serve), EXIT_SECONDS)
        assert left, described(serve.processes())
    finally:
        serve.kill()


async def test_a_stop_sent_to_the_whole_group_of_serve_stops_it_cleanly(
    worker_services: WorkerServices, tmp_path: Path
) -> None:
    serve = start_serve(worker_services, tmp_path / "serve.log")
    try:
        assert await wait_for_serve(serve), serve.log_tail()

        serve.signal_group(signal.SIGTERM)

        assert await serve.wait_for_exit(EXIT_SECONDS) == 0, serve.log_tail()
        left = await wait_until(lambda: no_process_left(serve), EXIT_SECONDS)
        assert left, described(serve.processes())
    finally:
        serve.kill()


async def test_a_stop_sent_to_the_whole_group_stops_cleanly_and_loses_nothing(
    worker_services: WorkerServices, pool: asyncpg.Pool
) -> None:
    """What a supervisor does, or Ctrl-C in a terminal: SIGTERM to every process of the group."""
    service = worker_services.start()
    assert await wait_for_service(service, pool, BOOT_SECONDS)
    goal_ids = await set_goals(pool, GOALS)
    writer = CheckInWriter(pool, goal_ids)
    assert await wait_for_convergence(pool, CONVERGE_SECONDS) == []

    async with projection_locks(pool) as locks:

        async def every_worker_thread_mid_projection() -> bool:
            return await locks.waiting_projections() >= WORKER_PROCESSES * WORKER_THREADS

        async def every_worker_process_stopping() -> bool:
            """Each Dramatiq worker process has begun its shutdown: it takes no new message."""
            return len(service.logged("Shutting down...")) >= WORKER_PROCESSES

        # Workers wait inside their projections while the other goals' messages queue up.
        await locks.hold(goal_ids)
        await writer.write_round()
        assert await wait_until(every_worker_thread_mid_projection, BOOT_SECONDS)
        service.signal_group(signal.SIGTERM)
        assert await wait_until(every_worker_process_stopping, EXIT_SECONDS), service.log_tail()
    # Freed, the workers finish the messages under way and hand back the rest.

    assert await service.wait_for_exit(EXIT_SECONDS) == 0, service.log_tail()
    assert not service.processes(), described(service.processes())
    assert worker_services.messages_held_by_departed_workers() == 0
    assert worker_services.outstanding_messages() > 0

    await writer.write_round(goal_ids[GOALS // 2 :])
    replacement = worker_services.start()
    gaps = await wait_for_convergence(pool, CONVERGE_SECONDS)
    checkpoint, head = await wait_for_relay(pool, CONVERGE_SECONDS)

    assert gaps == []
    assert checkpoint == head
    assert replacement.returncode is None
