"""The worker service: Dramatiq worker processes, and the relay that feeds them."""

import asyncio
import os
import signal
import sys

import structlog

from infra.audit.signing import signing_key
from infra.config import Settings
from infra.lifeline import dies_with_this_process, ignore_late_stops
from services.worker.audit_checkpoints import run_audit_checkpoints
from services.worker.mail import run_mail_delivery
from services.worker.nudge_scan import run_nudge_scan
from services.worker.relay import run_relay

log = structlog.get_logger(__name__)

# Dramatiq waits for the messages under way before it stops; past this, it is stopped hard and
# what it held is delivered again (the reconciler, or Redis's own recovery of a dead consumer).
STOP_TIMEOUT_S = 30.0


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


async def start_dramatiq(settings: Settings) -> asyncio.subprocess.Process:
    """Dramatiq's main process, in a session of its own, stopping when this process ends.

    A signal to this service's process group (a supervisor's stop, Ctrl-C in a terminal) must
    reach Dramatiq once, from this service: Dramatiq's main process forwards every stop it gets
    to its worker processes, and a worker process takes a second one as an order to exit at
    once, abandoning its messages and failing with status 1. In a session of its own, only this
    service signals it. Since the group's signals no longer reach it, it asks the kernel for a
    SIGTERM when this service ends, even by SIGKILL, and its worker processes do the same
    (infra/lifeline.py): no Dramatiq group outlives the service to be joined by another when
    the service is started again. Spawned first, before the relay starts any thread.
    """
    return await asyncio.create_subprocess_exec(
        *dramatiq_command(settings),
        start_new_session=True,
        preexec_fn=dies_with_this_process(),
        env={**os.environ, "dramatiq_worker_timeout": str(settings.worker_idle_poll_ms)},
    )


async def stop_dramatiq(workers: asyncio.subprocess.Process) -> None:
    if workers.returncode is not None:
        return
    workers.terminate()
    try:
        async with asyncio.timeout(STOP_TIMEOUT_S):
            await workers.wait()
    except TimeoutError:
        log.warning("dramatiq_stop_timed_out", seconds=STOP_TIMEOUT_S)
        workers.kill()  # its worker processes get their SIGTERM from the kernel then
        await workers.wait()


async def run_worker_service(settings: Settings) -> int:
    key = signing_key(settings)  # a key file that does not load stops the service at once
    workers = await start_dramatiq(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    loops = {"relay": asyncio.create_task(run_relay(settings, stop))}
    loops["nudge_scan"] = asyncio.create_task(run_nudge_scan(settings, stop))
    from services.worker.webhooks import run_webhook_scheduler  # noqa: PLC0415 - after the fork

    loops["webhook_scheduler"] = asyncio.create_task(run_webhook_scheduler(settings, stop))
    if key is not None:
        loops["audit_checkpoints"] = asyncio.create_task(run_audit_checkpoints(settings, key, stop))
    if settings.mail_enabled:
        loops["mail_delivery"] = asyncio.create_task(run_mail_delivery(settings, stop))
    log.info("worker_service_started", processes=settings.worker_processes, loops=sorted(loops))
    try:
        exited = asyncio.create_task(workers.wait())
        stopped = asyncio.create_task(stop.wait())
        await asyncio.wait({*loops.values(), exited, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.set()
        await asyncio.gather(*loops.values(), return_exceptions=True)
        await stop_dramatiq(workers)
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        ignore_late_stops()
    failed = False
    for name, loop_task in loops.items():
        if loop_task.done() and not loop_task.cancelled() and loop_task.exception():
            log.error(f"{name}_failed", exc_info=loop_task.exception())
            failed = True
    if failed:
        return 1
    if workers.returncode != 0:
        log.error("dramatiq_exited", exit_code=workers.returncode)
        return 1
    return 0
