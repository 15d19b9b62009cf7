"""`goals api` as an operator starts it: worker processes that share the port, and the load."""

import asyncio
import os
import signal
import socket
import time
from collections.abc import AsyncIterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.integration.api.api_service import READY_SECONDS, ApiService

pytestmark = pytest.mark.skipif(
    not Path("/proc/net/tcp").exists(), reason="finds each connection's worker in /proc"
)

WORKERS = 2
CONNECTIONS = 32
_TCP_ESTABLISHED = "01"
_TCP_LISTEN = "0A"


async def until_every_worker_listens(api: ApiService) -> None:
    """Until the API answers and each worker listens on a socket of its own."""
    await api.until_live()
    deadline = time.monotonic() + READY_SECONDS
    while _listening_sockets(api.port) != api.worker_count:
        assert time.monotonic() < deadline, api.log_tail()
        await asyncio.sleep(0.1)


@pytest.fixture(scope="module")
async def api(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ApiService]:
    """One service for the module, since it takes seconds to start: the tests run in order,
    and the last one stops it."""
    log_path = tmp_path_factory.mktemp("serving") / "api.log"
    service = ApiService(module_database_url, log_path, WORKERS)
    try:
        await until_every_worker_listens(service)
        yield service
    finally:
        service.kill()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in (Path("/proc") / str(pid) / "fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed while we looked
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def _tcp_sockets() -> list[tuple[int, int, str, str]]:
    """(local port, remote port, state, inode) of each IPv4 TCP socket."""
    found = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].rsplit(":", 1)[1], 16)
        remote_port = int(fields[2].rsplit(":", 1)[1], 16)
        found.append((local_port, remote_port, fields[3], fields[9]))
    return found


def _listening_sockets(port: int) -> int:
    return sum(local == port and state == _TCP_LISTEN for local, _, state, _ in _tcp_sockets())


def _accepted_per_worker(api: ApiService, client_ports: list[int]) -> dict[int, int]:
    """How many of the connections from `client_ports` each worker has accepted (holds)."""
    by_client_port = _server_side_inodes(api.port)
    return {
        pid: sum(by_client_port.get(port) in _socket_inodes(pid) for port in client_ports)
        for pid in api.workers()
    }


def _server_side_inodes(server_port: int) -> dict[int, str]:
    """The server's end of each established connection to `server_port`, by client port."""
    return {
        remote: inode
        for local, remote, state, inode in _tcp_sockets()
        if local == server_port and state == _TCP_ESTABLISHED
    }


async def test_the_workers_share_the_connections_of_a_burst(api: ApiService) -> None:
    """All connections arrive at once; each worker, listening on its own socket, gets a share.
    (With one socket shared by all, the first worker to wake would accept most of them.)"""
    with ExitStack() as stack:
        clients = [
            stack.enter_context(socket.create_connection(("127.0.0.1", api.port)))
            for _ in range(CONNECTIONS)
        ]
        client_ports = [client.getsockname()[1] for client in clients]
        # The kernel completes each connection at once; a worker holds it once it accepted it.
        deadline = time.monotonic() + READY_SECONDS
        while sum((per_worker := _accepted_per_worker(api, client_ports)).values()) < CONNECTIONS:
            assert time.monotonic() < deadline, per_worker
            await asyncio.sleep(0.05)

    assert sum(per_worker.values()) == CONNECTIONS, per_worker
    # The kernel spreads connections by a hash of their addresses: fewer than 4 of 32 on one
    # of two workers happens about once in a million runs.
    assert min(per_worker.values()) >= 4, per_worker


async def test_a_worker_that_dies_is_replaced(api: ApiService) -> None:
    victim, survivor = api.workers()
    os.kill(victim, signal.SIGKILL)

    deadline = time.monotonic() + READY_SECONDS
    while not (len(api.workers()) == WORKERS and victim not in api.workers()):
        assert time.monotonic() < deadline, api.log_tail()
        await asyncio.sleep(0.1)
    assert survivor in api.workers()
    await until_every_worker_listens(api)


async def test_sigterm_stops_every_worker_and_exits_cleanly(api: ApiService) -> None:
    workers = api.workers()
    api.process.send_signal(signal.SIGTERM)

    assert await api.wait_for_exit(within=20) == 0, api.log_tail()
    assert not any(map(_alive, workers))


async def test_a_port_already_taken_stops_it_at_once_with_a_clear_error(
    module_database_url: str, tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        service = ApiService(module_database_url, tmp_path / "api.log", WORKERS, port)
        try:
            exit_code = await service.wait_for_exit(within=20)
        finally:
            service.kill()

    assert exit_code not in (None, 0)
    assert f"cannot serve the API on 127.0.0.1:{port}" in service.log_tail()
