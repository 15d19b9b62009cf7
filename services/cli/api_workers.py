"""The API's listening sockets, and the uvicorn worker processes that accept on them.

The supervisor opens one socket per worker slot, all bound to the one address with
SO_REUSEPORT, so that the kernel spreads new connections evenly over the slots. With one
socket shared by all (uvicorn's own way to run several workers), whichever worker wakes first
accepts every connection waiting, and a burst of connections, or a proxy's few keep-alive ones,
can all land on one worker while the others idle.

The supervisor keeps every socket open for its whole life and hands each worker its slot's
socket. A socket closed by its only holder drops the connections waiting in its queue and the
port refuses new ones until it is open again; held by the supervisor, it never closes while the
service runs. A worker that stops or dies only stops accepting: what arrives meanwhile waits in
its slot's queue for the next worker on that slot. That is what lets a rolling restart replace
the workers while no connection is refused.
"""

import asyncio
import multiprocessing
import os
import signal
import socket
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event

import uvicorn

from infra.lifeline import die_with_parent

# uvicorn's exit status for a worker that could not start (app or lifespan): starting it
# again would fail the same way.
STARTUP_FAILURE = 3
BACKLOG = 2048
# Time for a client that has just connected to send its request, when its worker stops.
ACCEPTED_GRACE_S = 1.0
# A fresh interpreter per worker: a replacement runs the code on disk now, not the supervisor's.
_SPAWN = multiprocessing.get_context("spawn")

Address = tuple[socket.AddressFamily, str, int]


def listen_address(host: str, port: int) -> Address:
    family, _, _, _, sockaddr = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    return family, str(sockaddr[0]), int(sockaddr[1])


def check_address_free(address: Address) -> None:
    """Fails at once, and clearly, where the slots would share the port with a stranger: a
    socket bound without SO_REUSEPORT cannot share the port with anything already listening on
    it, even another instance of this service."""
    family, host, port = address
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise SystemExit(f"cannot serve the API on {host}:{port}: {error.strerror}") from None


def listening_socket(address: Address) -> socket.socket:
    family, host, port = address
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise SystemExit(f"cannot serve the API on {host}:{port}: {error.strerror}") from None
    sock.listen(BACKLOG)
    return sock


class ApiWorker:
    """One uvicorn worker process, accepting on its slot's socket."""

    def __init__(self, app_factory: str, sock: socket.socket) -> None:
        self._ready = _SPAWN.Event()
        self.process: BaseProcess = _SPAWN.Process(
            target=_serve,
            args=(app_factory, sock, os.getpid(), self._ready),
            daemon=False,
        )
        self.process.start()

    @property
    def pid(self) -> int | None:
        return self.process.pid

    @property
    def exitcode(self) -> int | None:
        return self.process.exitcode

    def wait_until_ready(self, within: float, give_up: Callable[[], bool]) -> bool:
        """Whether the worker is accepting (its app started) within `within` seconds; False
        at once if it exits, or when `give_up` says so."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline and self.exitcode is None and not give_up():
            if self._ready.wait(0.1):
                return True
        return False

    def request_stop(self) -> None:
        """SIGTERM: uvicorn stops accepting and finishes the requests under way."""
        if self.exitcode is None:
            self.process.terminate()

    def finish(self, within: float) -> bool:
        """Waits up to `within` seconds for the worker to exit, then kills it; whether it
        exited in time."""
        self.process.join(within)
        if self.exitcode is not None:
            return True
        self.process.kill()
        self.process.join()
        return False


class _ReadyServer(uvicorn.Server):
    """A uvicorn server that says when it accepts: its app's lifespan has started."""

    def __init__(self, config: uvicorn.Config, ready: Event) -> None:
        super().__init__(config)
        self._ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if not self.should_exit:
            self._ready.set()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Stops accepting, then gives the connections accepted a moment ago time to send
        their request before uvicorn's own shutdown: that closes at once every connection that
        has not sent one yet, and its client, which connected to a port that accepted it, would
        see it closed with no answer."""
        for server in self.servers:
            server.close()
        await asyncio.sleep(ACCEPTED_GRACE_S)
        await super().shutdown(sockets)


def _serve(app_factory: str, sock: socket.socket, supervisor_pid: int, ready: Event) -> None:
    # Stops as on SIGTERM if the supervisor dies, even by SIGKILL (infra/lifeline.py).
    die_with_parent(supervisor_pid)
    # A hang-up sent to the whole group (a closed terminal, `kill -HUP -<group>`) is the
    # supervisor's to act on, with a rolling restart, not each worker's to die of.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    config = uvicorn.Config(
        app_factory,
        factory=True,
        access_log=False,  # the app logs one structured line per request itself
        log_config=None,
        proxy_headers=True,
        backlog=BACKLOG,
    )
    _ReadyServer(config, ready).run(sockets=[sock])
