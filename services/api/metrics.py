"""Prometheus metrics, read from PostgreSQL so that every API process reports the same.

The relay runs in the worker service, which records how its passes go in PostgreSQL
(infra/projections/relay_health.py); the broker is pinged from here.
"""

import asyncpg
from litestar import get
from litestar.datastructures import State
from litestar.response import Response

from infra.config import Settings
from infra.db.outages import unreachable
from infra.mail.delivery import MailCounts, mail_counts
from infra.projections.lag import (
    ConsumerLag,
    ProjectionCounts,
    consumer_counts,
    consumer_lag,
    feed_lag,
    relay_lag,
)
from infra.projections.registry import consumers, feed_consumers
from infra.projections.relay_health import RelayHealth, read_relay_health
from infra.webhooks.history import SendingHealth, sending_health
from services.api.health import OK, broker_check
from services.api.outage import DatabaseWatch

BUDGET_SECONDS = 2.0
_HELP = {
    "goals_database_up": ("gauge", "1 if this process reached the database for this scrape."),
    "goals_broker_up": ("gauge", "1 if the broker (Redis) answered a ping within 0.5 s, else 0."),
    "goals_consumer_lag_events": ("gauge", "Events a consumer has not handled yet."),
    "goals_consumer_lag_seconds": ("gauge", "Age of the oldest event a consumer has not handled."),
    "goals_projection_events_applied_total": ("counter", "Events applied to the projection."),
    "goals_projection_events_failed_total": ("counter", "Events the projection could not apply."),
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
    "goals_webhook_deliveries_due": ("gauge", "Webhook deliveries whose attempt time has come."),
    "goals_webhook_oldest_due_seconds": (
        "gauge",
        "How long the oldest webhook delivery due has waited for a sender.",
    ),
    "goals_webhook_endpoints_disabled": ("gauge", "Webhook endpoints that are disabled."),
    "goals_mail_pending": ("gauge", "E-mails in the outbox not yet sent nor given up on."),
    "goals_mail_oldest_due_seconds": (
        "gauge",
        "How long the e-mail due longest has waited past its time; 0 when none is due.",
    ),
    "goals_mail_failed_total": ("counter", "E-mails given up on (status failed)."),
}


@get("/metrics", summary="Prometheus metrics", tags=["health"], include_in_schema=False)
async def metrics(state: State) -> Response[str]:
    settings: Settings = state.settings
    pool: asyncpg.Pool = state.pool
    watch: DatabaseWatch = state.database_watch

    async def look() -> tuple[
        list[ConsumerLag], dict[str, ProjectionCounts], RelayHealth, MailCounts, SendingHealth
    ]:
        async with pool.acquire() as conn:
            lags = [await relay_lag(conn)]
            lags += [await consumer_lag(conn, consumer) for consumer in consumers()]
            lags += [await feed_lag(conn, consumer.name) for consumer in feed_consumers()]
            counts = {
                consumer.name: await consumer_counts(conn, consumer) for consumer in consumers()
            }
            return (
                lags,
                counts,
                await read_relay_health(conn),
                await mail_counts(conn),
                await sending_health(conn),
            )

    broker_up = 1 if await broker_check(settings.redis_url) == OK else 0
    samples: dict[str, list[tuple[str, float]]] = {}
    try:
        lags, counts, relay, mail, webhooks = await watch.within(BUDGET_SECONDS, look())
    except Exception as error:
        if not unreachable(error):
            raise
        # Still an answer, so that the scrape (and an alert on this gauge) does not fail too.
        samples["goals_database_up"] = [("", 0)]
        samples["goals_broker_up"] = [("", broker_up)]
    else:
        samples = {
            "goals_database_up": [("", 1)],
            "goals_broker_up": [("", broker_up)],
            "goals_consumer_lag_events": [(lag.consumer, lag.events) for lag in lags],
            "goals_consumer_lag_seconds": [(lag.consumer, round(lag.seconds, 3)) for lag in lags],
            "goals_projection_events_applied_total": [
                (name, count.applied) for name, count in counts.items()
            ],
            "goals_projection_events_failed_total": [
                (name, count.failed) for name, count in counts.items()
            ],
            "goals_relay_last_pass_age_seconds": (
                []
                if relay.last_pass_age_seconds is None
                else [("", round(relay.last_pass_age_seconds, 3))]
            ),
            "goals_relay_failing_seconds": [("", round(relay.failing_seconds or 0.0, 3))],
            "goals_relay_failed_passes_total": [("", relay.failed_passes)],
            "goals_webhook_deliveries_due": [("", webhooks.due)],
            "goals_webhook_oldest_due_seconds": [("", round(webhooks.oldest_due_seconds, 3))],
            "goals_webhook_endpoints_disabled": [("", webhooks.disabled_endpoints)],
            "goals_mail_pending": [("", mail.pending)],
            "goals_mail_oldest_due_seconds": [("", round(mail.oldest_due_seconds, 3))],
            "goals_mail_failed_total": [("", mail.failed)],
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
