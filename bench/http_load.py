"""An HTTP load generator for check-ins, run in its own process by bench.api_checkins.

    python -m bench.http_load < spec.json > result.json

Reads a `LoadSpec` as JSON on stdin and writes a `LoadResult` as JSON on stdout. Every request
POSTs `{"amount": 1}` to /v1/goals/{goal_id}/check-ins with the bearer token, over `connections`
keep-alive HTTP/1.1 connections (or, with `read_path`, GETs that path). Two shapes of load:

- closed loop (`rate` is null): each connection checks in on its own goal and sends its next
  request as soon as the previous one is answered: the peak the server sustains.
- open loop (`rate` requests per second): requests fall due on a fixed schedule, whatever the
  server's latency, and go out on whichever connection is free; latency counts from the moment a
  request fell due, so a server falling behind shows as latency, not as a lower offered rate.

A closed-loop run counts the requests answered within `duration` seconds of its start; an
open-loop run sends `rate * duration` requests and counts every one of them.

The client is a few lines of HTTP/1.1 on asyncio streams rather than httpx: on this machine
httpx's pool managed about 170 requests/s at 64 connections against a server that answers at
once (about 1,000 at 8), so it, not the server, would have set the pace.
"""

import asyncio
import sys
import time
from dataclasses import dataclass, field

import msgspec
import uvloop

BODY = b'{"amount": 1}'
REQUEST_TIMEOUT_S = 10.0
# In-flight requests at the end of an open-loop run get this long to be answered.
DRAIN_TIMEOUT_S = 15.0
ERROR_BODY_SHOWN = 300


class LoadSpec(msgspec.Struct, frozen=True):
    base_url: str
    token: str
    goal_ids: list[str]
    connections: int
    duration: float
    rate: float | None = None
    read_path: str | None = None
    """When set, each request GETs this path (`{goal_id}` filled in) instead of checking in."""


class LoadResult(msgspec.Struct, frozen=True):
    requests: int
    """Requests answered (any status) within the measured window."""
    seconds: float
    latencies_ns: list[int]
    non_2xx: int
    transport_errors: int
    statuses: dict[str, int]
    cpu_seconds: float
    """The generator's own CPU time over the whole run: what it took from the servers' cores."""
    first_error: str | None = None


class ProtocolError(Exception):
    pass


class Answer(msgspec.Struct, frozen=True):
    status: int
    body: bytes


def read_request(host: str, path: str, token: str) -> bytes:
    head = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\r\n"
    return head.encode()


def requests_of(spec: LoadSpec, host: str) -> list[bytes]:
    if spec.read_path is None:
        return [check_in_request(host, goal_id, spec.token) for goal_id in spec.goal_ids]
    paths = [spec.read_path.format(goal_id=goal_id) for goal_id in spec.goal_ids]
    return [read_request(host, path, spec.token) for path in paths]


def check_in_request(host: str, goal_id: str, token: str) -> bytes:
    head = (
        f"POST /v1/goals/{goal_id}/check-ins HTTP/1.1\r\n"
        f"Host: {host}\r\n"
        f"Authorization: Bearer {token}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(BODY)}\r\n"
        "\r\n"
    )
    return head.encode() + BODY


async def read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = b""
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        chunk = await reader.readexactly(size + 2)
        if size == 0:
            return body
        body += chunk[:-2]


async def read_answer(reader: asyncio.StreamReader) -> tuple[Answer, bool]:
    """The response, and whether the connection stays open after it."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    parts = head[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
        raise ProtocolError(f"not an HTTP/1.x status line: {head[0]!r}")
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip().lower()
    if headers.get("transfer-encoding") == "chunked":
        body = await read_chunked(reader)
    else:
        body = await reader.readexactly(int(headers.get("content-length", "0")))
    return Answer(int(parts[1]), body), headers.get("connection") != "close"


class HttpConnection:
    """One keep-alive connection, reopened when the server closes it."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def exchange(self, request: bytes) -> Answer:
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT_S):
                if self.streams is None:
                    self.streams = await asyncio.open_connection(self.host, self.port)
                reader, writer = self.streams
                writer.write(request)
                answer, keep_open = await read_answer(reader)
        except BaseException:
            self.close()
            raise
        if not keep_open:
            self.close()
        return answer

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


@dataclass
class Tally:
    """What the window between `counted_from` and `counted_until` saw (perf_counter_ns)."""

    counted_from: int
    counted_until: int
    latencies_ns: list[int] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    non_2xx: int = 0
    transport_errors: int = 0
    first_error: str | None = None

    async def send(self, connection: HttpConnection, request: bytes, due_ns: int) -> None:
        try:
            answer = await connection.exchange(request)
        except (OSError, TimeoutError, asyncio.IncompleteReadError, ProtocolError) as error:
            if self.counted_from <= time.perf_counter_ns() <= self.counted_until:
                self.transport_errors += 1
                self.first_error = self.first_error or f"{type(error).__name__}: {error}"
            return
        answered_ns = time.perf_counter_ns()
        if not self.counted_from <= answered_ns <= self.counted_until:
            return
        self.latencies_ns.append(answered_ns - due_ns)
        key = str(answer.status)
        self.statuses[key] = self.statuses.get(key, 0) + 1
        if not 200 <= answer.status < 300:
            self.non_2xx += 1
            shown = answer.body[:ERROR_BODY_SHOWN].decode(errors="replace")
            self.first_error = self.first_error or f"{answer.status}: {shown}"

    def result(self, seconds: float) -> LoadResult:
        return LoadResult(
            requests=len(self.latencies_ns),
            seconds=seconds,
            latencies_ns=self.latencies_ns,
            non_2xx=self.non_2xx,
            transport_errors=self.transport_errors,
            statuses=self.statuses,
            cpu_seconds=time.process_time(),
            first_error=self.first_error,
        )


def address(base_url: str) -> tuple[str, int]:
    host, _, port = base_url.removeprefix("http://").rstrip("/").partition(":")
    return host, int(port or 80)


def counting_for(seconds: float) -> Tally:
    began = time.perf_counter_ns()
    return Tally(began, began + int(seconds * 1e9))


async def closed_loop(spec: LoadSpec) -> LoadResult:
    host, port = address(spec.base_url)
    requests = requests_of(spec, host)
    tally = counting_for(spec.duration)

    async def worker(request: bytes) -> None:
        connection = HttpConnection(host, port)
        try:
            while time.perf_counter_ns() < tally.counted_until:
                await tally.send(connection, request, time.perf_counter_ns())
        finally:
            connection.close()

    async with asyncio.TaskGroup() as group:
        for index in range(spec.connections):
            group.create_task(worker(requests[index % len(requests)]))
    return tally.result(spec.duration)


async def open_loop(spec: LoadSpec, rate: float) -> LoadResult:
    host, port = address(spec.base_url)
    requests = requests_of(spec, host)
    # Every request sent is counted, however late its answer: the tail is what is measured.
    tally = counting_for(spec.duration + DRAIN_TIMEOUT_S)
    began_ns = tally.counted_from
    total = round(rate * spec.duration)
    interval_ns = 1e9 / rate
    due: asyncio.Queue[tuple[bytes, int] | None] = asyncio.Queue()

    async def worker() -> None:
        connection = HttpConnection(host, port)
        try:
            while (item := await due.get()) is not None:
                await tally.send(connection, *item)
        finally:
            connection.close()

    async def schedule() -> None:
        sent = 0
        while sent < total:
            # Everything whose time has come goes now, so a late wake-up never lowers the rate.
            now_due = min(total, int((time.perf_counter_ns() - began_ns) / interval_ns) + 1)
            for index in range(sent, now_due):
                due_ns = began_ns + int(index * interval_ns)
                due.put_nowait((requests[index % len(requests)], due_ns))
            sent = now_due
            next_due_ns = began_ns + sent * interval_ns
            await asyncio.sleep(max(0.0, (next_due_ns - time.perf_counter_ns()) / 1e9))
        for _ in range(spec.connections):
            due.put_nowait(None)

    async with asyncio.timeout(spec.duration + DRAIN_TIMEOUT_S):
        async with asyncio.TaskGroup() as group:
            group.create_task(schedule())
            for _ in range(spec.connections):
                group.create_task(worker())
    return tally.result(spec.duration)


async def run(spec: LoadSpec) -> LoadResult:
    return await (closed_loop(spec) if spec.rate is None else open_loop(spec, spec.rate))


def main() -> None:
    spec = msgspec.json.decode(sys.stdin.buffer.read(), type=LoadSpec)
    # uvloop (which uvicorn[standard] brings) keeps the generator's own share of the CPU small.
    result = uvloop.run(run(spec))
    sys.stdout.buffer.write(msgspec.json.encode(result))


if __name__ == "__main__":
    main()
