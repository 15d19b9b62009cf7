"""The short fault run: one fault of each kind under load, then the history check."""

from pathlib import Path

import pytest

from tests.faults.faults import FAULTS
from tests.faults.run import Shape, fault_run

# Every process the run starts is killed after this long, whatever happens to the test.
LIFETIME_SECONDS = 170.0


@pytest.mark.faults
async def test_every_fault_once_under_load(tmp_path: Path) -> None:
    report = await fault_run(tmp_path, iter(FAULTS.values()), Shape(), LIFETIME_SECONDS)

    print(report.table())  # shown by pytest when the test fails  # noqa: T201
    assert report.passed, report.failures()
