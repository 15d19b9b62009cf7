"""`goals audit export`: the same NDJSON as the API's export, to a file or standard output,
with a progress bar on standard error."""

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

from infra.db.connection import Connection
from tests.integration.audit.seeding import seed_access_records, seed_clinic, seed_events

START = datetime(2025, 6, 1, tzinfo=UTC)


def _goals(database_url: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and command line
        [sys.executable, "-m", "services.cli", "audit", "export", *arguments],
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_the_command_exports_a_clinics_range_with_progress(
    database_url: str, admin_conn: Connection, tmp_path: Path
) -> None:
    clinic_id, other_clinic = uuid4(), uuid4()
    await seed_clinic(admin_conn, clinic_id)
    await seed_events(admin_conn, clinic_id, 2_500, START, uuid4())
    await seed_events(admin_conn, other_clinic, 100, START, uuid4())
    await seed_access_records(admin_conn, clinic_id, 30, START)
    await seed_access_records(admin_conn, None, 7, START)  # refused reads by no one
    out = tmp_path / "audit.ndjson"
    # The range leaves out the first event (recorded a millisecond after START).
    since = "2025-06-01T00:00:00.002+00:00"

    done = _goals(database_url, "--clinic", str(clinic_id), "--from", since, "--output", str(out))

    assert done.returncode == 0, done.stderr
    *lines, end = [json.loads(line) for line in out.read_text().splitlines()]
    events, accesses = lines[:2_499], lines[2_499:]
    assert end == {"kind": "end", "records": 2_528, "events": 2_499, "access_records": 29}
    assert {event["kind"] for event in events} == {"event"}
    assert {event["clinic_id"] for event in events} == {str(clinic_id)}
    assert [event["data"]["amount"] for event in events] == list(range(2, 2_501))
    assert {access["kind"] for access in accesses} == {"access"}
    assert {access["clinic_id"] for access in accesses} == {str(clinic_id)}
    assert [access["correlation_id"] for access in accesses] == [
        f"seed-read-{n}" for n in range(2, 31)
    ]
    assert "exporting [" in done.stderr
    assert "2528/2528 records" in done.stderr

    everything = _goals(database_url, "--to", "2026-01-01T00:00:00Z")
    assert everything.returncode == 0, everything.stderr
    last = json.loads(everything.stdout.splitlines()[-1])
    assert last == {"kind": "end", "records": 2_637, "events": 2_600, "access_records": 37}


async def test_a_time_without_an_offset_is_refused(database_url: str) -> None:
    refused = _goals(database_url, "--from", "2025-06-01T00:00:00")
    assert refused.returncode == 2
    assert "offset" in refused.stderr
