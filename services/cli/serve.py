"""Running the API under a production ASGI server."""

import os

import uvicorn

from infra.config import Settings


def api_processes(settings: Settings) -> int:
    return settings.api_workers or os.cpu_count() or 1


def serve_api(settings: Settings) -> None:
    uvicorn.run(
        "services.api.app:create_app",
        factory=True,
        host=settings.api_host,
        port=settings.api_port,
        workers=api_processes(settings),
        access_log=False,  # the app logs one structured line per request itself
        log_config=None,
        proxy_headers=True,
    )
