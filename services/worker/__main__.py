"""The worker service: Dramatiq worker processes, and the relay that feeds them."""

import asyncio
import signal
import sys

import structlog

from infra.config import Settings
from services.worker.relay import run_relay

log = structlog.get_logger(__name__)


def dramatiq_command(settings: Settings) -> list[str]:
    return [
        sys.executable,
        "-m",
        "dramatiq",
        "services.worker.actors",
        "--processes",
        str(settings.worker_processes),
        "--threads",
        str(settings.worker_threads),
    ]


async def run_worker_service(settings: Settings) -> int:
    workers = await asyncio.create_subprocess_exec(*dramatiq_command(settings))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    relay = asyncio.create_task(run_relay(settings, stop))
    log.info("worker_service_started", processes=settings.worker_processes)
    try:
        exited = asyncio.create_task(workers.wait())
        stopped = asyncio.create_task(stop.wait())
        await asyncio.wait({relay, exited, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.set()
        await asyncio.gather(relay, return_exceptions=True)
        if workers.returncode is None:
            workers.terminate()
            await workers.wait()
    if relay.done() and not relay.cancelled() and relay.exception():
        log.error("relay_failed", exc_info=relay.exception())
        return 1
    return 0 if workers.returncode in (0, -signal.SIGTERM) else 1
