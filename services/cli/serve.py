"""Running the API under a production ASGI server: uvicorn, in worker processes of our own.

Each worker listens on a socket of its own, all bound to the one address with SO_REUSEPORT, so
that the kernel spreads new connections evenly over the workers. With one socket shared by all
(uvicorn's own way to run several workers), whichever worker wakes first accepts every connection
waiting, and a burst of connections, or a proxy's few keep-alive ones, can all land on one
worker while the others idle.
"""

import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import time
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess

import structlog
import uvicorn

from infra.config import Settings

# uvicorn's exit status for a worker that could not start (app, lifespan or socket): starting it
# again would fail the same way.
STARTUP_FAILURE = 3
STOP_TIMEOUT_S = 30.0

log = structlog.get_logger("api.serve")


def api_processes(settings: Settings) -> int:
    return settings.api_workers or os.cpu_count() or 1


API_APP = "services.api.app:create_served_app"


def serve_api(settings: Settings, app_factory: str = API_APP) -> int:
    """Serves the app `app_factory` names until SIGTERM or SIGINT; a worker that dies is
    replaced."""
    address = _listen_address(settings.api_host, settings.api_port)
    _check_address_free(address)
    spawn = multiprocessing.get_context("spawn")
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def start_worker() -> BaseProcess:
        worker = spawn.Process(target=_serve_worker, args=(app_factory, address), daemon=False)
        worker.start()
        return worker

    workers = [start_worker() for _ in range(api_processes(settings))]
    log.info("api started", address=f"{address[1]}:{address[2]}", workers=len(workers))
    failed = False
    while not stopping and not failed:
        wait([worker.sentinel for worker in workers], timeout=0.5)
        for index, worker in enumerate(workers):
            if worker.exitcode is None or stopping:
                continue
            if worker.exitcode == STARTUP_FAILURE:
                log.error("an api worker could not start; stopping", pid=worker.pid)
                failed = True
                break
            log.warning("an api worker died; starting another", exit_code=worker.exitcode)
            workers[index] = start_worker()
    for worker in workers:
        if worker.exitcode is None:
            worker.terminate()  # SIGTERM: uvicorn finishes the requests under way first
    deadline = time.monotonic() + STOP_TIMEOUT_S
    for worker in workers:
        worker.join(max(0.0, deadline - time.monotonic()))
        if worker.exitcode is None:
            log.warning("an api worker did not stop in time; killing it", pid=worker.pid)
            worker.kill()
            worker.join()
    return 1 if failed else 0


Address = tuple[socket.AddressFamily, str, int]


def _listen_address(host: str, port: int) -> Address:
    family, _, _, _, sockaddr = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    return family, str(sockaddr[0]), int(sockaddr[1])


def _check_address_free(address: Address) -> None:
    """Fails at once, and clearly, where the workers would each fail to bind: a socket bound
    without SO_REUSEPORT cannot share the port with anything already listening on it, even
    another instance of this service."""
    family, host, port = address
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise SystemExit(f"cannot serve the API on {host}:{port}: {error.strerror}") from None


def _serve_worker(app_factory: str, address: Address) -> None:
    family, host, port = address
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sys.exit(STARTUP_FAILURE)
    config = uvicorn.Config(
        app_factory,
        factory=True,
        access_log=False,  # the app logs one structured line per request itself
        log_config=None,
        proxy_headers=True,
    )
    uvicorn.Server(config).run(sockets=[sock])


def serve_all() -> int:
    """`goals api` and `goals worker` side by side; when one stops, so does the other."""
    children = [
        subprocess.Popen([sys.executable, "-m", "services.cli", command])  # noqa: S603
        for command in ("api", "worker")
    ]

    def stop(*_: object) -> None:
        for child in children:
            if child.poll() is None:
                child.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while all(child.poll() is None for child in children):
        time.sleep(0.5)
    stop()
    return max(abs(child.wait()) for child in children)
