"""Answers that stream (a client's record, the audit export) hold one connection each, at most
`API_MAX_CONCURRENT_STREAMS` at once: past that a streaming request waits, then answers 503
`too_many_streams` with `Retry-After`, while every other read goes on being served."""

import asyncio

import asyncpg
import httpx
import msgspec
from litestar import Litestar
from litestar.testing import AsyncTestClient
from litestar.types import HTTPReceiveMessage, Message

from services.api.app import create_app
from tests.integration.api.support import set_goal
from tests.integration.api.world import Clinic, Person, app_settings


def _one_stream_app(database_url: str) -> Litestar:
    """The app with room for one stream at a time, to run in the test's own event loop so that
    its requests overlap."""
    settings = msgspec.structs.replace(
        app_settings(database_url),
        api_max_concurrent_streams=1,
        database_acquire_timeout_seconds=0.5,
    )
    return create_app(settings)


class StalledReader:
    """A request whose reader takes the answer's start and first chunk, then stops reading: the
    answer stays mid-stream, holding its connection and its slot, until `resume`."""

    def __init__(self, app: Litestar, path: str, reader: Person) -> None:
        self.streaming = asyncio.Event()
        self._resumed = asyncio.Event()
        self._answered = asyncio.Event()
        self._requested = False
        self.status = 0
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": [
                (b"host", b"testserver"),
                (b"authorization", reader.headers["Authorization"].encode()),
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
            "state": {},
        }
        self._task = asyncio.create_task(app(scope, self._receive, self._send))  # type: ignore[arg-type]

    async def _receive(self) -> HTTPReceiveMessage:
        if not self._requested:
            self._requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        # Connected until the answer has all been sent, as an ASGI server says it.
        await self._answered.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        elif message.get("body"):
            self.streaming.set()
            await self._resumed.wait()
        if not message.get("more_body", False) and message["type"] == "http.response.body":
            self._answered.set()

    async def resume(self) -> None:
        self._resumed.set()
        await asyncio.wait_for(self._task, 10)


async def test_past_the_bound_a_stream_is_told_to_retry_and_other_reads_go_on(
    api: AsyncTestClient[Litestar], clinic: Clinic, database_url: str, pool: asyncpg.Pool
) -> None:
    goal = (await set_goal(api, clinic))["goal_id"]
    app = _one_stream_app(database_url)
    async with app.lifespan():
        await _past_the_bound(app, clinic, goal)

    # A refusal is recorded like any answer: an attempt to read is worth accounting for.
    outcomes = await pool.fetch(
        "SELECT route, status FROM access_log WHERE route LIKE '%record' OR route LIKE '%export' "
        "ORDER BY id"
    )
    assert [(row["route"].rsplit("/", 1)[-1], row["status"]) for row in outcomes] == [
        ("record", 200),  # the stalled one, recorded before its first byte
        ("export", 503),
        ("record", 503),
        ("record", 200),
    ]


async def _past_the_bound(app: Litestar, clinic: Clinic, goal: str) -> None:
    record = f"/v1/clients/{clinic.client.id}/record"
    stalled = StalledReader(app, record, clinic.client)
    await asyncio.wait_for(stalled.streaming.wait(), 10)
    assert stalled.status == 200

    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        refused = [
            await client.get("/v1/audit/export", headers=clinic.auditor.headers),
            await client.get(record, headers=clinic.therapist.headers),
        ]
        read = await client.get(f"/v1/goals/{goal}", headers=clinic.therapist.headers)

        for answer in refused:
            assert answer.status_code == 503, answer.text
            assert answer.json()["code"] == "too_many_streams"
            assert answer.headers["retry-after"]
        assert read.status_code == 200, read.text

        # The slot comes back with the stalled answer's end.
        await stalled.resume()
        again = await client.get(record, headers=clinic.therapist.headers)
        assert again.status_code == 200, again.text
