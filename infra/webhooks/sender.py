"""A sender: takes one endpoint, sends its due deliveries, signed at each attempt, and writes
back what came of them. The scheduler (services/worker/webhooks.py) hands endpoints out; any
number of senders run at once, one per endpoint, so a slow receiver holds back only itself.
"""

import asyncio
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg
import httpx
import msgspec
import structlog

from domain.goals.fhir import Json
from domain.webhooks.payload import body
from infra.config import Settings
from infra.webhooks.addresses import AddressGuard, Refused, Target, parse_networks
from infra.webhooks.claims import (
    Due,
    Endpoint,
    claim_due,
    claim_endpoint,
    due_again,
    keep_endpoint,
    release_endpoint,
)
from infra.webhooks.fhir_goals import goals_as_fhir
from infra.webhooks.http import Answer, new_client, post
from infra.webhooks.outcomes import Policy, record
from infra.webhooks.signing import signed_headers

log = structlog.get_logger(__name__)

BATCHES_IN_FLIGHT = 8
"""Deliveries claimed at a time, as a multiple of the requests in flight to the endpoint."""
SLICE_SECONDS = 2.0
"""How long one message sends to one endpoint before it gives its worker thread back; the next
message for the endpoint goes to the back of the queue, so other work (the consumers' messages,
other endpoints) is never kept waiting behind a busy endpoint for long."""


def retry_delays(settings: Settings) -> tuple[float, ...]:
    return tuple(float(part) for part in settings.webhook_retry_delays.split(",") if part.strip())


def guard_for(settings: Settings) -> AddressGuard:
    return AddressGuard(
        parse_networks(settings.webhook_allowed_networks), settings.webhook_allow_http
    )


class Slice(msgspec.Struct, frozen=True):
    attempted: int
    more_due: bool


class Sender:
    def __init__(
        self,
        pool: asyncpg.Pool,
        settings: Settings,
        guard: AddressGuard | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._pool = pool
        self._settings = settings
        self._guard = guard or guard_for(settings)
        self._clock = clock
        self._policy = Policy(
            retry_delays(settings),
            timedelta(seconds=settings.webhook_disable_after_seconds),
            jitter,
        )
        self._concurrency = settings.webhook_concurrency_per_endpoint

    async def send_endpoint(self, endpoint_id: UUID) -> int:
        """Sends a slice (see `send_slice`) and says how many it attempted."""
        return (await self.send_slice(endpoint_id)).attempted

    async def send_slice(self, endpoint_id: UUID) -> Slice:
        """Sends what is due to the endpoint, starting attempts for at most `SLICE_SECONDS` (and
        half its lease): none if another sender has it, or nothing is due. Says whether the
        slice ran out with deliveries perhaps still due, for the caller to hand the endpoint
        out again at once rather than at the scheduler's next pass."""
        lease = self._settings.webhook_claim_seconds
        async with self._pool.acquire() as conn:
            endpoint = await claim_endpoint(conn, endpoint_id, lease)
        if endpoint is None:
            return Slice(0, more_due=False)
        sent = 0
        more_due = False
        until = time.monotonic() + min(SLICE_SECONDS, lease / 2)
        # A client of its own, with a connection per request in flight: httpx's pool does work
        # for every connection it holds at each request, and one endpoint's connections are of
        # no use to another's.
        client = new_client(self._concurrency)
        try:
            while True:
                if time.monotonic() >= until:
                    more_due = True
                    break
                async with self._pool.acquire() as conn:
                    due = await claim_due(
                        conn, endpoint_id, lease, self._concurrency * BATCHES_IN_FLIGHT
                    )
                if not due:
                    break
                attempted, disabled = await self._send_batch(client, endpoint, due, until)
                sent += attempted
                if disabled:
                    break
                async with self._pool.acquire() as conn:
                    await keep_endpoint(conn, endpoint_id, lease)
        finally:
            await client.aclose()
            async with self._pool.acquire() as conn:
                await release_endpoint(conn, endpoint_id)
        return Slice(sent, more_due)

    async def _send_batch(
        self, client: httpx.AsyncClient, endpoint: Endpoint, due: list[Due], until: float
    ) -> tuple[int, bool]:
        """Sends the batch, starting no attempt after `until` (a hung receiver makes each
        attempt last the whole timeout): what was not started is due again at once. Says how
        many were attempted, and whether the endpoint was disabled by them."""
        try:
            target: Target | Refused = await self._guard.target(endpoint.url)
        except Refused as refused:
            target = refused
        goals: dict[UUID, Json | None] = {}
        if endpoint.format == "fhir":
            async with self._pool.acquire() as conn:
                goals = await goals_as_fhir(conn, due)
        room = asyncio.Semaphore(self._concurrency)

        async def attempt(item: Due) -> tuple[Due, datetime, Answer] | Due:
            async with room:
                if time.monotonic() >= until:
                    return item
                at = self._clock()
                if isinstance(target, Refused):
                    return item, at, Answer(None, 0, f"{target.code}: {target.detail}", "", None)
                try:
                    payload = body(item.disclosed, endpoint.format, goals.get(item.delivery_id))
                except ValueError as error:  # a goal whose events make no FHIR Goal
                    return item, at, Answer(None, 0, f"no body: {error}", "", None)
                headers = signed_headers(str(item.delivery_id), payload, endpoint.secrets, at)
                timeout = self._settings.webhook_timeout_seconds
                return item, at, await post(client, target, headers, payload, timeout)

        outcomes = await asyncio.gather(*(attempt(item) for item in due))
        attempts = [outcome for outcome in outcomes if not isinstance(outcome, Due)]
        unstarted = [outcome.delivery_id for outcome in outcomes if isinstance(outcome, Due)]
        async with self._pool.acquire() as conn, conn.transaction():
            disabled = await record(conn, endpoint, attempts, self._policy, self._clock())
            if unstarted:
                await due_again(conn, unstarted)
        log.info(
            "webhooks_sent",
            endpoint_id=str(endpoint.id),
            sent=len(attempts),
            delivered=sum(1 for _, _, answer in attempts if _ok(answer)),
        )
        return len(attempts), disabled


def _ok(answer: Answer) -> bool:
    return answer.status is not None and 200 <= answer.status < 300
