"""The nudge scan over 100,000 active goals: how long a pass takes, and how many nudges a second
it finds, stores and delivers.

    uv run python -m bench.nudge_scan [--goals 100000] [--goals-per-client 5]

Creates a scratch database `goals_bench_<random>` on the server that `DATABASE_URL` names,
migrates it, and seeds it by direct inserts (COPY): one clinic, a therapist per 100 clients,
clients in five time zones, each with `--goals-per-client` active goals in `goal_summaries`
(daily, weekly, monthly and by-due-date cadences; one in ten with a cue naming a time, one in
twenty due within three days, one in fifty overdue), two check-ins each in `goal_check_ins`, and
one client in ten over the clinic's limit of active goals. Then it runs the scan (as the worker
service does, `infra/nudges/scanner.py`) three times:

1. at 10:00 in Berlin on a Wednesday: most reminders are due, and are found, stored and sent
   (or deferred for those in their quiet hours);
2. a minute later: everything found is already stored, and nothing is due: the steady state,
   which is what almost every pass is;
3. at 08:00 in Berlin the next day: what waited for the morning or for the next day's cap.

Drops the database at the end.
"""

import argparse
import asyncio
import os
import random
import secrets
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import asyncpg
import msgspec

from domain.goals.terms import Cadence, GoalTerms, Measure
from infra.db.migrate import migrate
from infra.db.pool import create_database_if_missing, drop_database, url_for_database
from infra.nudges.scanner import Scanned, scan

DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
TARGET_SECONDS = 5.0
ZONES = ("Europe/Berlin", "Europe/London", "America/New_York", "Asia/Kolkata", "UTC")
CADENCES: tuple[Cadence, ...] = ("per_day", "per_week", "per_month", "by_due_date")
WEDNESDAY_TEN_IN_BERLIN = datetime(2026, 5, 6, 8, 0, tzinfo=UTC)
_encode = msgspec.json.Encoder().encode


def _terms(index: int, zone: str, today: date) -> GoalTerms:
    due = today + timedelta(days=60)
    if index % 20 == 0:
        due = today + timedelta(days=2)
    elif index % 50 == 1:
        due = today - timedelta(days=1)
    return GoalTerms(
        statement=f"Walk for 30 minutes, goal {index}",
        life_area="physical_health",
        values=("health",),
        measure=Measure("count", 3, "walks", CADENCES[index % len(CADENCES)]),
        cue="at 7:30, after breakfast" if index % 10 == 0 else "when I finish lunch",
        start_date=today - timedelta(days=30),
        due_date=due,
        priority="medium",
        time_zone=zone,
    )


def _people(clients: int, clinic: uuid.UUID) -> tuple[list[tuple[object, ...]], list[uuid.UUID]]:
    therapists = [uuid.uuid4() for _ in range(max(clients // 100, 1))]
    rows: list[tuple[object, ...]] = [
        (therapist, clinic, "therapist", f"t{n}", f"t{n}@bench.example", "Europe/Berlin")
        for n, therapist in enumerate(therapists)
    ]
    client_ids = [uuid.uuid4() for _ in range(clients)]
    rows += [
        (client, clinic, "client", f"c{n}", f"c{n}@bench.example", ZONES[n % len(ZONES)])
        for n, client in enumerate(client_ids)
    ]
    return rows, client_ids


def _goals(
    client_ids: list[uuid.UUID], per_client: int, clinic: uuid.UUID, now: datetime
) -> Iterator[tuple[tuple[object, ...], list[tuple[object, ...]]]]:
    chance = random.Random(13)
    today = now.date()
    index = 0
    for number, client in enumerate(client_ids):
        zone = ZONES[number % len(ZONES)]
        for _ in range(per_client + (1 if number % 10 == 0 else 0)):
            goal_id = uuid.uuid4()
            terms = _terms(index, zone, today)
            summary: tuple[object, ...] = (
                goal_id, clinic, client, terms.statement, terms.life_area, "active",
                terms.measure.kind, terms.measure.target, terms.measure.unit,
                terms.measure.cadence, zone, terms.start_date, terms.due_date, terms.priority,
                _encode(terms).decode(), now - timedelta(days=30 - index % 30), 3, index + 1,
            )  # fmt: skip
            check_ins: list[tuple[object, ...]] = [
                (uuid.uuid4(), goal_id, 1.0, now - timedelta(hours=chance.randint(1, 24 * 20)))
                for _ in range(2)
            ]
            index += 1
            yield summary, check_ins


async def _seed(conn: asyncpg.Connection, goals: int, per_client: int, now: datetime) -> int:
    clinic = uuid.uuid4()
    await conn.execute("INSERT INTO clinics (id, name) VALUES ($1, 'bench')", clinic)
    people, client_ids = _people(goals // per_client, clinic)
    await conn.copy_records_to_table(
        "users",
        records=people,
        columns=["id", "clinic_id", "role", "display_name", "email", "time_zone"],
    )
    therapists = [row[0] for row in people if row[2] == "therapist"]
    await conn.copy_records_to_table(
        "care_team",
        records=[(client, therapists[n // 100]) for n, client in enumerate(client_ids)],
        columns=["client_id", "therapist_id"],
    )
    summaries: list[tuple[object, ...]] = []
    check_ins: list[tuple[object, ...]] = []
    for summary, goal_check_ins in _goals(client_ids, per_client, clinic, now):
        summaries.append(summary)
        check_ins += goal_check_ins
    await conn.copy_records_to_table(
        "goal_summaries",
        records=summaries,
        columns=[
            "goal_id", "clinic_id", "client_id", "statement", "life_area", "status",
            "measure_kind", "target", "unit", "cadence", "time_zone", "start_date", "due_date",
            "priority", "terms", "set_at", "version", "last_position",
        ],
    )  # fmt: skip
    await conn.copy_records_to_table(
        "goal_check_ins",
        records=check_ins,
        columns=["check_in_id", "goal_id", "amount", "occurred_at"],
    )
    await conn.execute("ANALYZE")
    return len(summaries)


def _report(label: str, scanned: Scanned, seconds: float) -> None:
    delivered = scanned.delivered
    handled = scanned.stored + delivered.sent + delivered.deferred + delivered.dropped
    print(
        f"{label}: {seconds:.2f} s over {scanned.goals:,} goals; found {scanned.found:,}, "
        f"stored {scanned.stored:,}, sent {delivered.sent:,}, deferred {delivered.deferred:,}, "
        f"dropped {delivered.dropped:,}; {handled / seconds:,.0f} nudges/s "
        f"({'within' if seconds < TARGET_SECONDS else 'over'} the {TARGET_SECONDS:g} s target)"
    )


async def main(arguments: argparse.Namespace) -> None:
    server = os.environ.get("DATABASE_URL", DEFAULT_SERVER_URL)
    url = url_for_database(server, f"goals_bench_{secrets.token_hex(4)}")
    await create_database_if_missing(url)
    try:
        conn = await asyncpg.connect(url)
        try:
            await migrate(conn)
            seeded = await _seed(
                conn, arguments.goals, arguments.per_client, WEDNESDAY_TEN_IN_BERLIN
            )
            print(f"seeded {seeded:,} active goals")
            for label, moment in (
                ("first pass, 10:00 Berlin", WEDNESDAY_TEN_IN_BERLIN),
                ("a minute later", WEDNESDAY_TEN_IN_BERLIN + timedelta(minutes=1)),
                ("next morning, 08:00 Berlin", WEDNESDAY_TEN_IN_BERLIN + timedelta(hours=22)),
            ):
                started = time.perf_counter()
                scanned = await scan(conn, moment, due_soon_days=3, email=None)
                seconds = time.perf_counter() - started
                assert scanned is not None
                _report(label, scanned, seconds)
        finally:
            await conn.close()
    finally:
        await drop_database(url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--goals", type=int, default=100_000)
    parser.add_argument("--goals-per-client", dest="per_client", type=int, default=5)
    asyncio.run(main(parser.parse_args()))
