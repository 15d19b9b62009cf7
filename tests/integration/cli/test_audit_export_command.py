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
from tests.integration.audit.seeding import seed_events

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
    await seed_events(admin_conn, clinic_id, 2_500, START, uuid4())
    await seed_events(admin_conn, other_clinic, 100, START, uuid4())
    out = tmp_path / "audit.ndjson"
    # The range leaves out the first event (recorded a millisecond after START).
    since = "2025-06-01T00:00:00.002+00:00"

    done = _goals(database_url, "--clinic", str(clinic_id), "--from", since, "--output", str(out))

    assert done.returncode == 0, done.stderr
    *events, end = [json.loads(line) for line in out.read_text().splitlines()]
    assert end == {"kind": "end", "records": 2_499}
    assert {event["clinic_id"] for event in events} == {str(clinic_id)}
    assert [event["data"]["amount"] for event in events] == list(range(2, 2_501))
    assert "exporting [" in done.stderr
    assert "2499/2499 events" in done.stderr

    everything = _goals(database_url, "--to", "2026-01-01T00:00:00Z")
    assert everything.returncode == 0, everything.stderr
    lines = everything.stdout.splitlines()
    assert json.loads(lines[-1]) == {"kind": "end", "records": 2_600}


async def test_a_time_without_an_offset_is_refused(database_url: str) -> None:
    refused = _goals(database_url, "--from", "2025-06-01T00:00:00")
    assert refused.returncode == 2
    assert "offset" in refused.stderr
