"""Where the test PostgreSQL and Redis come from.

`TEST_DATABASE_URL`/`DATABASE_URL` and `TEST_REDIS_URL`/`REDIS_URL` name running servers; where
they are unset and a Docker engine answers, testcontainers starts throwaway ones.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager


def _from_environment(*names: str) -> str | None:
    for name in names:
        if value := os.environ.get(name):
            return value
    return None


def _docker_engine_answers() -> bool:
    try:
        import docker  # noqa: PLC0415 - only where no server is named

        docker.from_env(timeout=3).ping()
    except Exception:  # any failure means: no engine to use
        return False
    return True


_NO_SERVER = (
    "No {what} for the tests: set {variable} to a running server (the project's .ci/run "
    "does), or run a Docker engine so that testcontainers can start one."
)


@contextmanager
def postgres_server() -> Iterator[str]:
    """A PostgreSQL URL whose user may create and drop databases."""
    url = _from_environment("TEST_DATABASE_URL", "DATABASE_URL")
    if url:
        yield url
        return
    if not _docker_engine_answers():
        raise RuntimeError(_NO_SERVER.format(what="PostgreSQL", variable="DATABASE_URL"))
    from testcontainers.postgres import PostgresContainer  # noqa: PLC0415

    with PostgresContainer("postgres:16-alpine", driver=None) as container:
        yield container.get_connection_url()


@contextmanager
def redis_server() -> Iterator[str]:
    url = _from_environment("TEST_REDIS_URL", "REDIS_URL")
    if url:
        yield url
        return
    if not _docker_engine_answers():
        raise RuntimeError(_NO_SERVER.format(what="Redis", variable="REDIS_URL"))
    from testcontainers.redis import RedisContainer  # noqa: PLC0415

    with RedisContainer("redis:7-alpine") as container:
        host = container.get_container_host_ip()
        yield f"redis://{host}:{container.get_exposed_port(6379)}/0"
