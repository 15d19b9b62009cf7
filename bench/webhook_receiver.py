"""A webhook receiver for the benchmark: answers every POST at once with 204, on keep-alive
connections, and counts what it got. Run by bench/webhook_delivery.py in a process of its own:

    python -m bench.webhook_receiver PORT

It prints `received N` when it is stopped (SIGTERM).
"""

import asyncio
import signal
import sys

_ANSWER = b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n"


class _Connection(asyncio.Protocol):
    received = 0

    def __init__(self) -> None:
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            length = 0
            for line in self.buffer[:head_end].split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            end = head_end + 4 + length
            if len(self.buffer) < end:
                return
            self.buffer = self.buffer[end:]
            _Connection.received += 1
            assert self.transport is not None
            self.transport.write(_ANSWER)


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    server = await loop.create_server(_Connection, "127.0.0.1", port, backlog=1024)
    print("ready", flush=True)
    await stop.wait()
    server.close()
    print(f"received {_Connection.received}", flush=True)


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
