"""Worker services for one test, each on the test's database and its own broker namespace."""

import os
import sys
import uuid
from pathlib import Path

import redis

from tests.integration.worker.processes import WorkerService
from tests.integration.worker.projection import (
    messages_held_by_departed_workers,
    outstanding_messages,
)

WORKER_PROCESSES = 2
WORKER_THREADS = 2
# Short enough that the reconciler acts within a test; the relay delivers well before it.
RECONCILE_AFTER_SECONDS = 2


class WorkerServices:
    """Starts worker services for one test, each on the test's database and broker namespace."""

    def __init__(self, database_url: str, redis_url: str, log_dir: Path) -> None:
        self.database_url = database_url
        self.redis_url = redis_url
        # Unique per test, so that no two runs ever share a queue in a shared Redis.
        self.namespace = f"goals_test_{uuid.uuid4().hex[:12]}"
        self._log_dir = log_dir
        self._started: list[WorkerService] = []
        self._redis_urls = {redis_url}

    def start(self, redis_url: str | None = None, **settings: str) -> WorkerService:
        """A new service; `settings` override environment variables by name."""
        log_path = self._log_dir / f"worker-service-{len(self._started) + 1}.log"
        service = WorkerService(self.environment(redis_url, **settings), log_path)
        self._started.append(service)
        return service

    def environment(self, redis_url: str | None = None, **settings: str) -> dict[str, str]:
        """The environment of a service of this test; `settings` override variables by name."""
        redis_url = redis_url or self.redis_url
        self._redis_urls.add(redis_url)
        return {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": redis_url,
            "BROKER_NAMESPACE": self.namespace,
            "WORKER_PROCESSES": str(WORKER_PROCESSES),
            "WORKER_THREADS": str(WORKER_THREADS),
            "LOG_FORMAT": "json",
            "RECONCILE_AFTER_SECONDS": str(RECONCILE_AFTER_SECONDS),
            "PYTHONUNBUFFERED": "1",
            **settings,
        }

    def outstanding_messages(self) -> int:
        """Messages of this test's namespace still in the shared Redis."""
        return outstanding_messages(self.redis_url, self.namespace)

    def messages_held_by_departed_workers(self) -> int:
        return messages_held_by_departed_workers(self.redis_url, self.namespace)

    def close(self) -> None:
        for service in self._started:
            service.kill()
            # Shown by pytest only when the test failed: what each service said.
            sys.stdout.write(f"--- {service.log_path.name} (exit {service.returncode}) ---\n")
            sys.stdout.write(service.log_tail() + "\n")
        for url in self._redis_urls:
            self._forget_namespace(url)

    def _forget_namespace(self, url: str) -> None:
        client = redis.Redis.from_url(url, socket_timeout=2)
        try:
            keys = list(client.scan_iter(match=f"{self.namespace}:*"))
            if keys:
                client.delete(*keys)
        except redis.ConnectionError:
            pass  # a private Redis that is already gone, with everything it held
        finally:
            client.close()
