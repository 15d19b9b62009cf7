"""The access log's write path alone: how long a read waits for its record's batch, as the
service appends it (infra/audit/access_log.py through infra/db/batches.py), and what the table's
shape adds to the worst waits.

    uv run python -m bench.access_log_append [--records 100000] [--readers 16] [--rounds 2]

For each shape of `access_log`, on a scratch database of its own (`goals_bench_<random>` on the
server `DATABASE_URL` names), migrated by the code that runs this:

- `0013`: as migration 0013 made it, its foreign keys to clinics, users and access tokens and its
  GIN index by client collecting entries in a pending list (`fastupdate`), put back on purpose;
- `current`: as the migrations leave it now.

`--readers` tasks each submit one record at a time, as many reads answering at once do, through
one `Batcher` on a pool of the API's batch size, until `--records` are appended; each submit's
wait (to its batch's commit) is one sample. Reported: appends per second, p50, p99, p99.9 and the
longest wait, and how many waited over 20 ms. Each shape runs `--rounds` times, alternating.
"""

import argparse
import asyncio
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from bench.api_checkins import on_scratch_database
from infra.audit.access_log import AccessRecord, append_access_records
from infra.db.batches import Batcher
from infra.db.migrate import migrate

BATCH_CONNECTIONS = 2
SLOW_MS = 20.0

_AS_IN_0013 = """
ALTER INDEX access_log_by_client SET (fastupdate = on);
ALTER TABLE access_log
    ADD CONSTRAINT access_log_clinic_id_fkey FOREIGN KEY (clinic_id) REFERENCES clinics (id),
    ADD CONSTRAINT access_log_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id),
    ADD CONSTRAINT access_log_token_id_fkey FOREIGN KEY (token_id) REFERENCES access_tokens (id);
"""

_READER = """
WITH clinic AS (INSERT INTO clinics (id, name) VALUES ($1, 'bench') RETURNING id),
reader AS (
    INSERT INTO users (id, clinic_id, role, display_name, email, time_zone)
    SELECT $2, id, 'client', 'bench client', 'bench@example.org', 'UTC' FROM clinic
    RETURNING id
)
INSERT INTO access_tokens (id, user_id, secret_hash, expires_at)
SELECT $3::uuid, id, convert_to($3::uuid::text, 'UTF8'), now() + interval '1 day' FROM reader
"""


@dataclass(frozen=True)
class Run:
    shape: str
    rate: float
    waits_ms: list[float]

    def percentile(self, fraction: float) -> float:
        return self.waits_ms[min(len(self.waits_ms) - 1, int(len(self.waits_ms) * fraction))]


async def _appends(url: str, shape: str, records: int, readers: int) -> Run:
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
        if shape == "0013":
            await conn.execute(_AS_IN_0013)
        clinic, user, token = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        await conn.execute(_READER, clinic, user, token)
    finally:
        await conn.close()
    pool = await asyncpg.create_pool(url, min_size=BATCH_CONNECTIONS, max_size=BATCH_CONNECTIONS)
    recorder = Batcher(pool, append_access_records)
    waits: list[float] = []
    left = records

    async def reader() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            goal = uuid.uuid4()
            record = AccessRecord(
                requested_at=datetime.now(UTC),
                method="GET",
                route="/v1/goals/{goal_id:uuid}",
                path=f"/v1/goals/{goal}",
                status=200,
                correlation_id=uuid.uuid4().hex,
                clinic_id=clinic,
                user_id=user,
                token_id=token,
                role="client",
                client_ids=(user,),
                goal_ids=(goal,),
            )
            started = time.perf_counter_ns()
            await recorder.submit(record)
            waits.append((time.perf_counter_ns() - started) / 1e6)

    try:
        started = time.perf_counter()
        await asyncio.gather(*(reader() for _ in range(readers)))
        seconds = time.perf_counter() - started
    finally:
        await pool.close()
    return Run(shape, len(waits) / seconds, sorted(waits))


def _line(run: Run) -> str:
    slow = sum(1 for wait in run.waits_ms if wait > SLOW_MS)
    return (
        f"| {run.shape} | {run.rate:,.0f}/s | {run.percentile(0.5):.2f} ms | "
        f"{run.percentile(0.99):.2f} ms | {run.percentile(0.999):.2f} ms | "
        f"{run.waits_ms[-1]:.1f} ms | {slow} |"
    )


async def main(arguments: argparse.Namespace) -> None:
    runs: list[Run] = []
    shapes = ["0013", "current"]
    for round_number in range(arguments.rounds):
        for shape in shapes if round_number % 2 == 0 else reversed(shapes):

            async def one(url: str, shape: str = shape) -> None:
                runs.append(await _appends(url, shape, arguments.records, arguments.readers))

            await on_scratch_database(one)
            print(_line(runs[-1]), flush=True)
    print(f"{arguments.records:,} records by {arguments.readers} readers; the round of median p99:")
    print(f"| shape | appends | p50 | p99 | p99.9 | longest | over {SLOW_MS:.0f} ms |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for shape in shapes:
        mine = [run for run in runs if run.shape == shape]
        median = sorted(mine, key=lambda run: run.percentile(0.99))[len(mine) // 2]
        print(_line(median))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--readers", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    asyncio.run(main(parser.parse_args()))
