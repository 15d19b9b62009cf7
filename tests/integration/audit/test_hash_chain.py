"""The hash chain as the database keeps it: every insert chained by the log's trigger to the hash
that domain/audit/chain.py defines, whatever the content; the service unable to write or change
a hash; concurrent appends, to one stream and across many, still one valid chain each; and the
events of a log migrated from before the chain chained by the migration."""

import asyncio
import json
import random
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.audit.chain import GENESIS, EventFields, canonical, link_hash
from infra.db.connection import Connection
from infra.db.migrate import bundled_migrations, migrate
from infra.db.pool import create_database_if_missing, drop_database, url_for_database
from infra.eventstore.envelope import Metadata, NewEvent
from infra.eventstore.store import (
    PendingAppend,
    WrongExpectedVersion,
    append,
    append_batch,
    stream_version,
)
from tests.integration.audit.chain_log import verified
from tests.integration.eventstore.events import METADATA, new_event

_FIELDS = """
SELECT position, transaction_id::text, stream_id, stream_version, event_id::text, event_type,
    (extract(epoch FROM recorded_at) * 1000000)::bigint AS recorded_at_us, data::text,
    metadata::text, previous_hash, hash
FROM events ORDER BY stream_id, stream_version
"""


async def assert_chained_as_defined(conn: Connection) -> int:
    """Every stored hash is the one `canonical` and `link_hash` give; returns how many."""
    rows = await conn.fetch(_FIELDS)
    before: dict[str, bytes] = {}
    for row in rows:
        fields = EventFields(
            row["position"],
            int(row["transaction_id"]),
            row["stream_id"],
            row["stream_version"],
            row["event_id"],
            row["event_type"],
            row["recorded_at_us"],
            row["data"],
            row["metadata"],
        )
        assert row["previous_hash"] == before.get(row["stream_id"], GENESIS)
        assert row["hash"] == link_hash(row["previous_hash"], canonical(fields))
        before[row["stream_id"]] = row["hash"]
    return len(rows)


_TRICKY = [
    {"text": 'line\nbreak\ttab "quoted" back\\slash \u0001 \u007f'},
    {"text": "é, 東京, 🙂, \u0301combining, \u202eright-to-left"},
    {"big": 1e300, "small": 5e-324, "exact": 0.1, "negative": -0.0, "int": 12345678901234567890},
    {"zz": 1, "a": 2, "ключ": [1, {"b": None, "a": True}], "": ""},
]


async def test_every_insert_is_chained_as_defined_whatever_its_content(
    pool: asyncpg.Pool, conn: Connection
) -> None:
    for n, data in enumerate(_TRICKY, start=1):
        event = NewEvent(uuid.uuid4(), "tricky_happened", json.dumps(data), METADATA)
        await append(conn, "stream: ,é🙂", n - 1, [event])
    await append(conn, "several", 0, [new_event(str(n)) for n in range(5)])

    assert await assert_chained_as_defined(conn) == 9
    assert (await verified(pool)).intact


# PostgreSQL's text and jsonb hold no NUL character.
_text = st.text(st.characters(exclude_characters="\x00"), max_size=20)
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_text, children),
    max_leaves=8,
)
_no_nul = _text.filter(bool)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=_json, event_type=_no_nul, reason=st.one_of(st.none(), _no_nul))
async def test_any_content_is_chained_as_defined(
    conn: Connection, data: object, event_type: str, reason: str | None
) -> None:
    stream = f"stream-{uuid.uuid4()}"
    metadata = Metadata(uuid.uuid4(), "therapist", uuid.uuid4(), "c", reason=reason)
    await append(conn, stream, 0, [NewEvent(uuid.uuid4(), event_type, json.dumps(data), metadata)])

    await assert_chained_as_defined(conn)


async def test_the_service_may_neither_write_nor_change_a_hash(conn: Connection) -> None:
    await append(conn, "stream-a", 0, [new_event()])

    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await conn.execute(
            "INSERT INTO events (stream_id, stream_version, event_id, event_type, data, "
            "metadata, hash) VALUES ('stream-b', 1, gen_random_uuid(), 't', '{}', '{}', "
            "'\\x00')"
        )
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await conn.execute("UPDATE events SET hash = previous_hash")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await conn.execute("ALTER TABLE events DISABLE TRIGGER events_chained")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await conn.execute(
            "CREATE OR REPLACE FUNCTION chain_event() RETURNS trigger "
            "LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END'"
        )


async def _append_at_head(pool: asyncpg.Pool, stream: str, label: str) -> None:
    """One event at the end of `stream`, however many writers race for it."""
    async with pool.acquire() as conn:
        while True:
            try:
                await append(conn, stream, await stream_version(conn, stream), [new_event(label)])
            except WrongExpectedVersion:
                await asyncio.sleep(random.random() / 1000)
            else:
                return


async def _slow_writer(pool: asyncpg.Pool, stream: str) -> None:
    """Appends, then holds its transaction (and the head's lock) open a moment, so that the
    other writers of the stream queue on the head while its event is not yet committed."""
    async with pool.acquire() as conn:
        for _ in range(5):
            try:
                async with conn.transaction():
                    version = await stream_version(conn, stream)
                    await append(conn, stream, version, [new_event("slow")])
                    await asyncio.sleep(0.02)
            except WrongExpectedVersion:
                continue


async def _batch_writer(pool: asyncpg.Pool, streams: list[str], rounds: int) -> None:
    """Appends to several streams in one statement, naming them in an order of its own."""
    async with pool.acquire() as conn:
        for _ in range(rounds):
            order = random.sample(streams, len(streams))
            appends = [
                PendingAppend(s, await stream_version(conn, s), [new_event("batch"), new_event()])
                for s in order
            ]
            await append_batch(conn, appends)


async def test_concurrent_appends_keep_every_chain_whole(
    conn: Connection, pool: asyncpg.Pool
) -> None:
    shared = [f"shared-{n}" for n in range(4)]
    writers = [_append_at_head(pool, "hot", f"hot {n}") for n in range(60)]
    writers += [_slow_writer(pool, "hot") for _ in range(2)]
    writers += [_batch_writer(pool, shared, 10) for _ in range(6)]
    writers += [_append_at_head(pool, f"own-{n}", "own") for n in range(20)]

    await asyncio.gather(*writers)

    assert await stream_version(conn, "hot") >= 60
    chained = await assert_chained_as_defined(conn)
    found = await verified(pool)
    assert found.intact
    assert found.events == chained > 60 + 20


@pytest.fixture
async def old_database_url(postgres_url: str) -> AsyncIterator[str]:
    url = url_for_database(postgres_url, f"goals_test_old_{uuid.uuid4().hex[:10]}")
    yield url
    await drop_database(url)


async def test_a_log_from_before_the_chain_is_chained_by_the_migration(
    pool: asyncpg.Pool,
    old_database_url: str,
) -> None:
    await create_database_if_missing(old_database_url)
    conn = await asyncpg.connect(old_database_url)
    try:
        before_chain = [m for m in bundled_migrations() if m.version < 15]
        await migrate(conn, before_chain)
        for stream in ("old-a", "old-b"):
            for version in range(3):
                await append(conn, stream, version, [new_event(f"{stream} {version}")])

        await migrate(conn)

        assert await assert_chained_as_defined(conn) == 6
        assert (await verified(pool)).intact
        await append(conn, "old-a", 3, [new_event("after the migration")])
        assert (await verified(pool)).intact
    finally:
        await conn.close()
