"""The Dramatiq broker on Redis, and the database pool each worker process opens at boot.

Import this module before any actor: actors bind to the broker that is current when they are
declared.
"""

import multiprocessing

import asyncpg
import dramatiq
import redis
from dramatiq.asyncio import EventLoopThread, get_event_loop_thread, set_event_loop_thread
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import AsyncIO, Middleware

from infra.config import Settings, get_settings
from infra.db.outages import Outage
from infra.db.pool import close_pool, open_pool
from infra.lifeline import die_with_parent
from infra.logging import configure_logging


class DaemonAsyncIO(AsyncIO):
    """Dramatiq's AsyncIO, with an event loop thread that cannot keep its process alive.

    A worker process that is signalled twice (a stop sent to the whole process group, which the
    Dramatiq parent forwards once more) exits from its main thread without shutting its worker
    down; a non-daemon event loop thread would then keep it, and the service, from ever ending.
    """

    def before_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        thread = EventLoopThread(self.logger)
        thread.daemon = True
        thread.start(timeout=1.0)
        set_event_loop_thread(thread)


class StopsWithParent(Middleware):
    """Each Dramatiq worker process stops, as on a SIGTERM, when the Dramatiq main process
    that forked it ends, even by SIGKILL: none is left consuming with no one to watch it."""

    def after_process_boot(self, broker: dramatiq.Broker) -> None:
        parent = multiprocessing.parent_process()
        if parent is not None and parent.pid is not None:
            die_with_parent(parent.pid)


class DatabasePool(Middleware):
    """Opens the asyncpg pool on the worker's event loop when the worker boots; it opens even
    while the database is down (infra/db/pool.py), so that a worker always boots."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pool: asyncpg.Pool | None = None
        self.outage = Outage("database")

    def before_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        configure_logging(self.settings)
        loop = get_event_loop_thread()
        if loop is None:
            raise RuntimeError("the AsyncIO middleware must come before DatabasePool")
        self.pool = loop.run_coroutine(open_pool(self.settings))

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        # After the worker threads finished their messages: closing the pool before them would
        # wait for their connections, then fail the messages still queued in the process.
        loop = get_event_loop_thread()
        if self.pool is not None and loop is not None:
            closing = self.settings.database_command_timeout_seconds
            loop.run_coroutine(close_pool(self.pool, closing))


def build_broker(settings: Settings) -> tuple[RedisBroker, DatabasePool]:
    # Timeouts, so that a Redis that hangs rather than refuses fails the relay's pass (which
    # then tries again) instead of blocking it.
    connections = redis.ConnectionPool.from_url(
        settings.redis_url, socket_timeout=10, socket_connect_timeout=5
    )
    # dramatiq ships type information, but RedisBroker's __init__ is not annotated.
    broker = RedisBroker(  # type: ignore[no-untyped-call]
        connection_pool=connections, namespace=settings.broker_namespace
    )
    broker.add_middleware(StopsWithParent())
    broker.add_middleware(DaemonAsyncIO())
    database = DatabasePool(settings)
    broker.add_middleware(database)
    return broker, database


broker, database = build_broker(get_settings())
dramatiq.set_broker(broker)


def outage() -> Outage:
    return database.outage


def pool() -> asyncpg.Pool:
    if database.pool is None:
        raise RuntimeError("the database pool opens when the worker boots")
    return database.pool
