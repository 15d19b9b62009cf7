"""Prometheus metrics, read from PostgreSQL so that every API process reports the same."""

import asyncpg
from litestar import get
from litestar.datastructures import State
from litestar.response import Response

from infra.db.outages import unreachable
from infra.projections.lag import (
    ConsumerLag,
    ProjectionCounts,
    consumer_counts,
    consumer_lag,
    relay_lag,
)
from infra.projections.registry import consumers
from services.api.outage import DatabaseWatch

BUDGET_SECONDS = 2.0
_HELP = {
    "goals_database_up": ("gauge", "1 if this process reached the database for this scrape."),
    "goals_consumer_lag_events": ("gauge", "Events a consumer has not handled yet."),
    "goals_consumer_lag_seconds": ("gauge", "Age of the oldest event a consumer has not handled."),
    "goals_projection_events_applied_total": ("counter", "Events applied to the projection."),
    "goals_projection_events_failed_total": ("counter", "Events the projection could not apply."),
}


@get("/metrics", summary="Prometheus metrics", tags=["health"], include_in_schema=False)
async def metrics(state: State) -> Response[str]:
    pool: asyncpg.Pool = state.pool
    watch: DatabaseWatch = state.database_watch

    async def look() -> tuple[list[ConsumerLag], dict[str, ProjectionCounts]]:
        async with pool.acquire() as conn:
            lags = [await relay_lag(conn)]
            lags += [await consumer_lag(conn, consumer) for consumer in consumers()]
            counts = {
                consumer.name: await consumer_counts(conn, consumer) for consumer in consumers()
            }
            return lags, counts

    samples: dict[str, list[tuple[str, float]]] = {}
    try:
        lags, counts = await watch.within(BUDGET_SECONDS, look())
    except Exception as error:
        if not unreachable(error):
            raise
        # Still an answer, so that the scrape (and an alert on this gauge) does not fail too.
        samples["goals_database_up"] = [("", 0)]
    else:
        samples = {
            "goals_database_up": [("", 1)],
            "goals_consumer_lag_events": [(lag.consumer, lag.events) for lag in lags],
            "goals_consumer_lag_seconds": [(lag.consumer, round(lag.seconds, 3)) for lag in lags],
            "goals_projection_events_applied_total": [
                (name, count.applied) for name, count in counts.items()
            ],
            "goals_projection_events_failed_total": [
                (name, count.failed) for name, count in counts.items()
            ],
        }
    lines = []
    for name, values in samples.items():
        kind, text = _HELP[name]
        lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]
        lines += [
            f'{name}{{consumer="{consumer}"}} {value}' if consumer else f"{name} {value}"
            for consumer, value in values
        ]
    return Response("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")
