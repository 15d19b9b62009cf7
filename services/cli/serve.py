"""Running the API under a production ASGI server."""

import os
import signal
import subprocess
import sys
import time

import uvicorn

from infra.config import Settings


def api_processes(settings: Settings) -> int:
    return settings.api_workers or os.cpu_count() or 1


def serve_api(settings: Settings) -> None:
    uvicorn.run(
        "services.api.app:create_served_app",
        factory=True,
        host=settings.api_host,
        port=settings.api_port,
        workers=api_processes(settings),
        access_log=False,  # the app logs one structured line per request itself
        log_config=None,
        proxy_headers=True,
    )


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
