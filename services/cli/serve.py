"""Running the API under a production ASGI server (uvicorn, in worker processes of our own:
services/cli/api_workers.py), and the API beside the worker service."""

import os
import signal
import socket
import subprocess
import sys
import time
from multiprocessing.connection import wait

import structlog

from infra.config import Settings
from infra.lifeline import dies_with_this_process, ignore_late_stops
from services.cli.api_workers import (
    STARTUP_FAILURE,
    ApiWorker,
    check_address_free,
    listen_address,
    listening_socket,
)

STOP_TIMEOUT_S = 30.0
# Importing the app and opening its pools; a successor not ready by then ends a rolling restart.
READY_TIMEOUT_S = 60.0
API_APP = "services.api.app:create_served_app"
COMMANDS = ("api", "worker")

log = structlog.get_logger("api.serve")


def api_processes(settings: Settings) -> int:
    return settings.api_workers or os.cpu_count() or 1


class _Requests:
    """What signals asked of the supervisor; its loop acts on them between waits."""

    def __init__(self) -> None:
        self.stop = False
        self.restart = False

    def ask_stop(self, *_: object) -> None:
        self.stop = True

    def ask_restart(self, *_: object) -> None:
        self.restart = True


def serve_api(settings: Settings, app_factory: str = API_APP) -> int:
    """Serves the app `app_factory` names until SIGTERM or SIGINT. A worker that dies is
    replaced; SIGHUP replaces every worker, one at a time (a rolling restart)."""
    address = listen_address(settings.api_host, settings.api_port)
    check_address_free(address)
    sockets = [listening_socket(address) for _ in range(api_processes(settings))]
    requests = _Requests()
    signal.signal(signal.SIGTERM, requests.ask_stop)
    signal.signal(signal.SIGINT, requests.ask_stop)
    signal.signal(signal.SIGHUP, requests.ask_restart)

    workers = [ApiWorker(app_factory, sock) for sock in sockets]
    log.info("api started", address=f"{address[1]}:{address[2]}", workers=len(workers))
    failed = False
    while not requests.stop and not failed:
        wait([worker.process.sentinel for worker in workers], timeout=0.5)
        if requests.restart:
            requests.restart = False
            _roll(workers, sockets, app_factory, requests)
        failed = _replace_the_dead(workers, sockets, app_factory, requests)
    for worker in workers:
        worker.request_stop()
    deadline = time.monotonic() + STOP_TIMEOUT_S
    for worker in workers:
        if not worker.finish(max(0.0, deadline - time.monotonic())):
            log.warning("an api worker did not stop in time; killed it", pid=worker.pid)
    for sock in sockets:
        sock.close()
    ignore_late_stops()
    return 1 if failed else 0


def _replace_the_dead(
    workers: list[ApiWorker], sockets: list[socket.socket], app_factory: str, requests: _Requests
) -> bool:
    """Starts a worker in the place of each that died; whether one could not start at all."""
    for index, worker in enumerate(workers):
        if worker.exitcode is None or requests.stop:
            continue
        if worker.exitcode == STARTUP_FAILURE:
            log.error("an api worker could not start; stopping", pid=worker.pid)
            return True
        log.warning("an api worker died; starting another", exit_code=worker.exitcode)
        workers[index] = ApiWorker(app_factory, sockets[index])
    return False


def _roll(
    workers: list[ApiWorker], sockets: list[socket.socket], app_factory: str, requests: _Requests
) -> None:
    """Replaces each worker in turn. Its successor accepts on the same socket and is ready
    (its app started) before the worker is asked to stop, so the slot is never without a
    worker accepting, and the worker finishes its requests under way before it exits."""
    log.info("api rolling restart started", workers=len(workers))
    for index, old in enumerate(workers):
        new = ApiWorker(app_factory, sockets[index])
        if not new.wait_until_ready(READY_TIMEOUT_S, give_up=lambda: requests.stop):
            log.error(
                "a new api worker did not start; the rolling restart stops here",
                exit_code=new.exitcode,
                replaced=index,
            )
            new.request_stop()
            new.finish(STOP_TIMEOUT_S)
            return
        workers[index] = new
        old.request_stop()
        if not old.finish(STOP_TIMEOUT_S):
            log.warning("an api worker did not stop in time; killed it", pid=old.pid)
    log.info("api rolling restart done", workers=len(workers))


def serve_all() -> int:
    """`goals api` and `goals worker` side by side; when one stops, so does the other. SIGHUP
    is passed on to the API, for a rolling restart."""
    # Each child stops when this process ends, even by SIGKILL (infra/lifeline.py).
    children = [
        subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "services.cli", command],
            preexec_fn=dies_with_this_process(),  # noqa: PLW1509 - no thread runs yet
        )
        for command in COMMANDS
    ]

    api = children[0]
    stopping = False

    def stop(*_: object) -> None:
        # Once: a child whose stop is done may have put back the default action for SIGTERM
        # (asyncio does, as its loop closes), and a second one would kill it on its way out.
        nonlocal stopping
        if stopping:
            return
        stopping = True
        for child in children:
            if child.poll() is None:
                child.terminate()

    def restart_api(*_: object) -> None:
        if api.poll() is None:
            api.send_signal(signal.SIGHUP)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGHUP, restart_api)
    while all(child.poll() is None for child in children):
        time.sleep(0.5)
    stop()
    ignore_late_stops()
    statuses = {command: child.wait() for command, child in zip(COMMANDS, children, strict=True)}
    log.info("serve stopped", **statuses)
    return max(abs(status) for status in statuses.values())
