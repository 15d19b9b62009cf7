"""Prometheus metrics, read from PostgreSQL so that every API process reports the same.

The relay runs in the worker service, which records how its passes go in PostgreSQL
(infra/projections/relay_health.py); the broker is pinged from here.
"""

import asyncpg
from litestar import get
from litestar.datastructures import State
from litestar.response import Response

from infra.config import Settings
from infra.projections.lag import projection_counts, projection_lag, relay_lag
from infra.projections.relay_health import read_relay_health
from services.api.health import OK, broker_check

_HELP = {
    "goals_consumer_lag_events": ("gauge", "Events a consumer has not handled yet."),
    "goals_consumer_lag_seconds": ("gauge", "Age of the oldest event a consumer has not handled."),
    "goals_projection_events_applied_total": ("counter", "Events applied to the projection."),
    "goals_projection_events_failed_total": ("counter", "Events the projection could not apply."),
    "goals_broker_up": ("gauge", "1 if the broker (Redis) answered a ping within 0.5 s, else 0."),
    "goals_relay_last_pass_age_seconds": (
        "gauge",
        "Seconds since the relay's last good pass ended; absent until it has made one.",
    ),
    "goals_relay_failing_seconds": (
        "gauge",
        "Seconds since the relay's passes began to fail (enqueue to the broker, most often); "
        "0 while they succeed.",
    ),
    "goals_relay_failed_passes_total": ("counter", "Relay passes that failed."),
}

# (labels, value) of each sample of a metric; labels as Prometheus writes them, or "".
Samples = list[tuple[str, float]]


@get("/metrics", summary="Prometheus metrics", tags=["health"], include_in_schema=False)
async def metrics(state: State) -> Response[str]:
    settings: Settings = state.settings
    pool: asyncpg.Pool = state.pool
    broker = await broker_check(settings.redis_url)
    async with pool.acquire() as conn:
        lags = [await relay_lag(conn), await projection_lag(conn)]
        counts = await projection_counts(conn)
        relay = await read_relay_health(conn)
    samples: dict[str, Samples] = {
        "goals_consumer_lag_events": [(_consumer(lag.consumer), lag.events) for lag in lags],
        "goals_consumer_lag_seconds": [
            (_consumer(lag.consumer), round(lag.seconds, 3)) for lag in lags
        ],
        "goals_projection_events_applied_total": [(_consumer("goal_summaries"), counts.applied)],
        "goals_projection_events_failed_total": [(_consumer("goal_summaries"), counts.failed)],
        "goals_broker_up": [("", 1 if broker == OK else 0)],
        "goals_relay_last_pass_age_seconds": (
            []
            if relay.last_pass_age_seconds is None
            else [("", round(relay.last_pass_age_seconds, 3))]
        ),
        "goals_relay_failing_seconds": [("", round(relay.failing_seconds or 0.0, 3))],
        "goals_relay_failed_passes_total": [("", relay.failed_passes)],
    }
    lines = []
    for name, values in samples.items():
        kind, text = _HELP[name]
        lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]
        lines += [
            f"{name}{{{labels}}} {value}" if labels else f"{name} {value}"
            for labels, value in values
        ]
    return Response("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")


def _consumer(name: str) -> str:
    return f'consumer="{name}"'
