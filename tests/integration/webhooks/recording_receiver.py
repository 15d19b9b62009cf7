"""A receiver in a process of its own, for the bursts: answers every POST 200 at once and writes
each request (headers and body) to a file, one JSON line each, for the test to verify.

    python -m tests.integration.webhooks.recording_receiver PORT FILE
"""

import asyncio
import base64
import json
import signal
import sys
from typing import IO

_ANSWER = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"


def _protocol(out: IO[str]) -> type[asyncio.Protocol]:
    class Connection(asyncio.Protocol):
        def __init__(self) -> None:
            self.buffer = b""
            self.transport: asyncio.Transport | None = None

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            if isinstance(transport, asyncio.Transport):
                self.transport = transport

        def data_received(self, data: bytes) -> None:
            self.buffer += data
            while (head_end := self.buffer.find(b"\r\n\r\n")) >= 0:
                headers = {}
                for line in self.buffer[:head_end].decode("latin-1").split("\r\n")[1:]:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                end = head_end + 4 + int(headers.get("content-length", "0"))
                if len(self.buffer) < end:
                    return
                body = self.buffer[head_end + 4 : end]
                self.buffer = self.buffer[end:]
                request = {"headers": headers, "body": base64.b64encode(body).decode()}
                out.write(json.dumps(request) + "\n")
                out.flush()
                if self.transport is not None:
                    self.transport.write(_ANSWER)

    return Connection


async def serve(port: int, path: str) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    with open(path, "a") as out:  # noqa: ASYNC230 - written line by line, as requests come
        server = await loop.create_server(_protocol(out), "127.0.0.1", port)
        print("ready", flush=True)  # noqa: T201
        await stop.wait()
        server.close()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1]), sys.argv[2]))
