"""The app behind a real HTTP server, on a free local port, in a background thread.

Litestar's test client hands each request to the app and waits for it to finish, so requests
sent through it never overlap; a real server lets them race as clients' requests do.
"""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from litestar import Litestar

_STARTUP_SECONDS = 10.0


@contextmanager
def serving(app: Litestar) -> Iterator[str]:
    """The server's base URL while it runs; its lifespan starts and ends with the block."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="on", log_config=None)
    )
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + _STARTUP_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(_STARTUP_SECONDS)
