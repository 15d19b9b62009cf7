"""How every session of the service's pools is set up."""

import pytest

from infra.config import Settings
from infra.db.pool import open_pool


@pytest.mark.parametrize(
    "server_settings",
    [None, {"plan_cache_mode": "force_generic_plan"}],
    ids=["requests", "batches"],
)
async def test_no_statement_of_the_service_is_compiled_with_jit(
    database_url: str, server_settings: dict[str, str] | None
) -> None:
    """Its statements are short, and PostgreSQL starts a compilation on estimates alone, which
    run high where statistics are missing: the compilation then costs many times the statement
    (docs/benchmarks.md)."""
    pool = await open_pool(
        Settings(database_url=database_url),
        min_size=1,
        max_size=1,
        server_settings=server_settings,
    )
    try:
        assert await pool.fetchval("SHOW jit") == "off"
    finally:
        await pool.close()
