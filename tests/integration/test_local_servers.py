"""`make run` on a machine with neither PostgreSQL nor Redis: the embedded servers.

`LOCAL_SERVERS=embedded` makes the commands take them even where real servers answer, so that
this runs everywhere. The servers keep their data in the test's own directory.
"""

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
from structlog.testing import capture_logs

from infra import local_servers as local_servers_module
from infra.config import Settings
from infra.local_servers import local_servers
from tests.integration.api.world import goal_body
from tests.processes import PROJECT_ROOT, ProcessGroup, free_port

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="finds the service's processes in /proc"
)

_NAMING_SERVERS = (
    "DATABASE_URL",
    "MIGRATION_DATABASE_URL",
    "REDIS_URL",
    "TEST_DATABASE_URL",
    "TEST_REDIS_URL",
)
_COMMAND_SECONDS = 60.0
_READY_SECONDS = 30.0
_PROJECTED_SECONDS = 15.0
_STOP_SECONDS = 30.0


def _environment(data: Path, port: int) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in _NAMING_SERVERS}
    env.update(
        LOCAL_SERVERS="embedded",
        LOCAL_DATA_DIR=str(data),
        API_HOST="127.0.0.1",
        API_PORT=str(port),
        API_WORKERS="1",
        WORKER_PROCESSES="1",
        WORKER_THREADS="2",
        LOG_FORMAT="json",
        PYTHONUNBUFFERED="1",
    )
    return env


def _goals(env: dict[str, str], command: str) -> subprocess.CompletedProcess[str]:
    finished = subprocess.run(  # noqa: S603 - our own interpreter and command line
        [sys.executable, "-m", "services.cli", command],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=_COMMAND_SECONDS,
        check=False,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    return finished


def _records(output: str) -> list[dict[str, Any]]:
    records = []
    for line in output.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a line that is not a log record: the demo's table, a library's line
        if isinstance(record, dict):
            records.append(record)
    return records


def _chosen(output: str) -> list[dict[str, Any]]:
    return [
        {key: value for key, value in record.items() if key in ("postgres", "redis")}
        for record in _records(output)
        if record.get("event") == "servers_chosen"
    ]


def _client_token(demo_output: str) -> str:
    for line in demo_output.splitlines():
        fields = line.split()
        if fields and fields[0] == "client":
            return fields[-1]
    raise AssertionError(f"the demo printed no client: {demo_output}")


def _running(pid: int) -> bool:
    """Whether `pid` is a live process (a zombie waiting for its parent counts as gone)."""
    try:
        stat = (Path("/proc") / str(pid) / "stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2 :].split()[0] != "Z"


def _in_group(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # ended while we looked
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append(int(entry.name))
    return members


def _postmaster(data: Path) -> int:
    return int((data / "postgres" / "postmaster.pid").read_text().split()[0])


def _redis_server(data: Path) -> int:
    registry = json.loads((data / "redis" / "redis.db.settings").read_text())
    return int(Path(registry["pidfile"]).read_text())


def _stop_left_behind(data: Path) -> None:
    """A failed test's servers, which run in sessions of their own: SIGINT is PostgreSQL's fast
    shutdown, and Redis stops on it too."""
    for server in (_postmaster, _redis_server):
        try:
            pid = server(data)
        except (OSError, ValueError, KeyError):
            continue  # it left no files behind: it does not run
        if _running(pid):
            os.kill(pid, signal.SIGINT)


async def _until(condition: Any, within: float, failure: Any) -> None:
    deadline = time.monotonic() + within
    while not await condition():
        assert time.monotonic() < deadline, failure()
        await asyncio.sleep(0.1)


@pytest.fixture
def data() -> Iterator[Path]:
    """The servers' data directory. Not under pytest's own temporary directory: as root, the
    embedded PostgreSQL runs as a user of its own, who must be let through every directory
    above it, and pytest takes that away again from its own whenever another run starts."""
    with tempfile.TemporaryDirectory(prefix="goals-embedded-") as directory:
        data = Path(directory) / "data"
        yield data
        _stop_left_behind(data)


async def test_make_run_works_on_embedded_servers_and_leaves_nothing_behind(
    data: Path, tmp_path: Path
) -> None:
    port = free_port()
    env = _environment(data, port)

    migrated = _goals(env, "migrate")
    assert _chosen(migrated.stdout + migrated.stderr) == [
        {"postgres": f"embedded {data / 'postgres'}"}
    ]
    assert not (data / "postgres" / "postmaster.pid").exists()  # stopped with the command

    service = ProcessGroup(
        [sys.executable, "-m", "services.cli", "serve"], env, tmp_path / "serve.log"
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:

            async def ready() -> bool:
                assert service.returncode is None, service.log_tail()
                try:
                    return (await http.get("/health/ready")).status_code == 200
                except httpx.TransportError:
                    return False

            await _until(ready, _READY_SECONDS, service.log_tail)
            # Another command joins the running server, and leaves it running.
            token = _client_token(_goals(env, "demo").stdout)
            http.headers["Authorization"] = f"Bearer {token}"

            created = await http.post("/v1/goals", json=goal_body())
            assert created.status_code == 201, created.text
            goal_id = created.json()["goal_id"]
            checked = await http.post(f"/v1/goals/{goal_id}/check-ins", json={"amount": 1})
            assert checked.status_code == 200, checked.text

            async def projected() -> bool:
                listed = await http.get("/v1/me/goals")
                versions = {goal["goal_id"]: goal["version"] for goal in listed.json()["goals"]}
                return versions.get(goal_id) == checked.json()["version"]

            await _until(projected, _PROJECTED_SECONDS, service.log_tail)

        log = service.log_path.read_text(errors="replace")
        assert _chosen(log) == [
            {"postgres": f"embedded {data / 'postgres'}", "redis": f"embedded {data / 'redis'}"}
        ]
        servers = [_postmaster(data), _redis_server(data)]
        assert all(_running(pid) for pid in servers)

        service.process.terminate()  # as a process manager stops it
        assert await service.wait_for_exit(_STOP_SECONDS) == 0, service.log_tail()

        async def all_gone() -> bool:
            return not _in_group(service.pid) and not any(_running(pid) for pid in servers)

        await _until(all_gone, _STOP_SECONDS, lambda: (_in_group(service.pid), servers))
        assert (data / "postgres" / "PG_VERSION").exists()  # the data stays for the next run
    finally:
        service.kill()


def test_a_url_wins_and_a_server_on_the_default_address_comes_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A logger that an earlier test already used is bound for good (cache_logger_on_first_use);
    # a fresh one binds to the capture below.
    monkeypatch.setattr(local_servers_module, "log", structlog.get_logger(local_servers.__module__))
    with socket.create_server(("127.0.0.1", 0)) as listening:
        port = listening.getsockname()[1]
        settings = Settings(
            database_url=f"postgresql://goals_app@127.0.0.1:{port}/therapy_goals",
            redis_url=f"redis://127.0.0.1:{free_port()}/0",
            local_data_dir=str(tmp_path),
        )
        named = {"REDIS_URL": "redis://redis.internal:6379/0"}
        with capture_logs() as logs, local_servers(settings, named, redis=True) as chosen:
            assert chosen == settings

    assert [(log["event"], log.get("postgres"), log.get("redis")) for log in logs] == [
        ("servers_chosen", f"local 127.0.0.1:{port}", None)
    ]
    assert list(tmp_path.iterdir()) == []  # nothing embedded was started
