"""A real HTTP receiver on loopback, started by the tests: it records every request and answers
as the test tells it to (a status, a Retry-After, or no answer at all for a while)."""

import base64
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from standardwebhooks.webhooks import Webhook


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]

    def verified(self, secret: str) -> Any:
        """The body as the reference package verifies it, or its error."""
        return Webhook(secret).verify(self.body, self.headers)


@dataclass(frozen=True)
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    hang_seconds: float = 0


Plan = Callable[["Receiver", bytes], Answer]


def always_ok(receiver: "Receiver", body: bytes) -> Answer:
    return Answer()


class Receiver:
    def __init__(self, plan: Plan = always_ok) -> None:
        self.plan = plan
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self.url = ""

    def took(self, request: Received) -> int:
        with self._lock:
            self.received.append(request)
            return len(self.received)

    def ids(self) -> list[str]:
        with self._lock:
            return [request.webhook_id for request in self.received]

    def bodies(self) -> list[bytes]:
        with self._lock:
            return [request.body for request in self.received]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {name.lower(): value for name, value in self.headers.items()}
            receiver.took(Received(headers, body, time.monotonic()))
            answer = receiver.plan(receiver, body)
            if answer.hang_seconds:
                time.sleep(answer.hang_seconds)
            reply = b"ok"
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def receiving(plan: Plan = always_ok, host: str = "127.0.0.1", port: int = 0) -> Iterator[Receiver]:
    receiver = Receiver(plan)
    server = ThreadingHTTPServer((host, port), _handler(receiver))
    server.daemon_threads = True
    port = server.server_address[1]
    receiver.url = f"http://{host}:{port}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    # The receiver's threads and the sender's event loop share one interpreter: switching
    # between them every 5 ms (the default) would make each request wait for it.
    switching = sys.getswitchinterval()
    sys.setswitchinterval(0.0002)
    try:
        yield receiver
    finally:
        sys.setswitchinterval(switching)
        server.shutdown()
        server.server_close()


class RecordedElsewhere:
    """What a receiver in another process wrote down, read back when asked."""

    def __init__(self, url: str, path: Path) -> None:
        self.url = url
        self._path = path

    @property
    def received(self) -> list[Received]:
        requests = []
        for line in self._path.read_text().splitlines():
            record = json.loads(line)
            requests.append(Received(record["headers"], base64.b64decode(record["body"]), 0.0))
        return requests


@contextmanager
def receiving_elsewhere(directory: Path) -> Iterator[RecordedElsewhere]:
    """A receiver in a process of its own, answering 200 at once: for bursts, where one in the
    test's own process would share its interpreter with the sender."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    path = directory / f"received-{port}.jsonl"
    path.touch()
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "tests.integration.webhooks.recording_receiver", str(port), path],
        stdout=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        process.stdout.readline()
        yield RecordedElsewhere(f"http://127.0.0.1:{port}/hook", path)
    finally:
        process.terminate()
        process.wait(10)
