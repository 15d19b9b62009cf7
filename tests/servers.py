"""Where the test PostgreSQL and Redis come from.

In order: `TEST_DATABASE_URL`/`DATABASE_URL` and `TEST_REDIS_URL`/`REDIS_URL` name running
servers; else the servers answering on this machine's default ports are used; else, where a
Docker engine answers, testcontainers starts throwaway ones; else embedded ones run from the
development packages (infra/local_servers.py), in a temporary directory deleted afterwards.
`LOCAL_SERVERS=embedded` goes straight to the embedded ones. Tests create their own databases
and key prefixes, so they never touch the service's own data.
"""

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from infra.local_servers import answers, embedded_postgres_server, embedded_redis_server


def _from_environment(*names: str) -> str | None:
    for name in names:
        if value := os.environ.get(name):
            return value
    return None


def _embedded_only() -> bool:
    return os.environ.get("LOCAL_SERVERS") == "embedded"


def _docker_engine_answers() -> bool:
    try:
        import docker  # noqa: PLC0415 - only where no server is named

        docker.from_env(timeout=3).ping()
    except Exception:  # any failure means: no engine to use
        return False
    return True


LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
LOCAL_REDIS = "redis://127.0.0.1:6379/0"


@contextmanager
def postgres_server() -> Iterator[str]:
    """A PostgreSQL URL whose user may create and drop databases, and create roles."""
    url = _from_environment("TEST_DATABASE_URL", "DATABASE_URL")
    if url:
        yield url
        return
    if not _embedded_only() and answers(LOCAL_POSTGRES):
        yield LOCAL_POSTGRES
        return
    if not _embedded_only() and _docker_engine_answers():
        from testcontainers.postgres import PostgresContainer  # noqa: PLC0415

        with PostgresContainer("postgres:16-alpine", driver=None) as container:
            yield container.get_connection_url()
        return
    with (
        tempfile.TemporaryDirectory(prefix="goals-test-") as directory,
        embedded_postgres_server(Path(directory) / "postgres", throwaway=True) as url,
    ):
        yield url


@contextmanager
def redis_server() -> Iterator[str]:
    url = _from_environment("TEST_REDIS_URL", "REDIS_URL")
    if url:
        yield url
        return
    if not _embedded_only() and answers(LOCAL_REDIS):
        yield LOCAL_REDIS
        return
    if not _embedded_only() and _docker_engine_answers():
        from testcontainers.redis import RedisContainer  # noqa: PLC0415

        with RedisContainer("redis:7-alpine") as container:
            host = container.get_container_host_ip()
            yield f"redis://{host}:{container.get_exposed_port(6379)}/0"
        return
    with (
        tempfile.TemporaryDirectory(prefix="goals-test-") as directory,
        embedded_redis_server(Path(directory)) as url,
    ):
        yield url


# The tests' service login: a member of goals_app, as an operator's own login would be, with a
# password, so that the suite runs as well against a server that asks for one.
SERVICE_LOGIN = "goals_test_app"
SERVICE_PASSWORD = "goals-test-app"


def service_url(admin_url: str) -> str:
    """The database that `admin_url` names, as the service connects to it."""
    parts = urlsplit(admin_url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{SERVICE_LOGIN}:{SERVICE_PASSWORD}@{host}"))
