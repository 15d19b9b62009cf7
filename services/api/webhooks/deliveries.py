"""What was sent to an endpoint, each attempt, and sending again: replay and retry."""

from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Request, Response, get, post
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, JSONBody, QueryParameter

from infra.webhooks import history
from infra.webhooks.history import DeliveryRow
from services.api.deps import Authenticated, Db
from services.api.errors import FieldError, Problem, not_found, problem_responses
from services.api.pages import DEFAULT_PAGE_SIZE, Cursor, PageSize, decode_cursor, encode_cursor
from services.api.webhooks.access import own_endpoint, require_manager
from services.api.webhooks.schemas import (
    AttemptOut,
    DeliveryDetail,
    DeliveryOut,
    DeliveryPage,
    Replay,
    Replayed,
)
from services.api.writes import IDEMPOTENT_WRITE, Reply, idempotent, reply


def _out(row: DeliveryRow) -> DeliveryOut:
    return DeliveryOut(**msgspec.structs.asdict(row))


def _disabled() -> Problem:
    return Problem(
        409, "endpoint_disabled", "The endpoint is disabled: enable it, then send again."
    )


@get(
    "/v1/webhook-endpoints/{endpoint_id:uuid}/deliveries",
    summary="An endpoint's deliveries, by sequence number",
    responses=problem_responses(400, 401, 403, 404, 422),
)
async def list_deliveries(
    endpoint_id: FromPath[UUID],
    conn: Db,
    caller: Authenticated,
    client_id: Annotated[
        UUID | None, QueryParameter(description="Only the deliveries of this client's goals.")
    ] = None,
    cursor: Cursor = None,
    limit: PageSize = DEFAULT_PAGE_SIZE,
) -> DeliveryPage:
    await own_endpoint(conn, caller, endpoint_id)
    after = 0 if cursor is None else decode_cursor(cursor, tuple[int])[0]
    found = await history.deliveries(
        conn,
        caller.clinic_id,
        endpoint_id,
        after_sequence=after,
        limit=limit + 1,
        client_id=client_id,
    )
    page = found[:limit]
    next_cursor = encode_cursor(page[-1].sequence) if len(found) > limit else None
    return DeliveryPage([_out(row) for row in page], next_cursor)


@get(
    "/v1/webhook-deliveries/{delivery_id:uuid}",
    summary="A delivery and each of its attempts",
    responses=problem_responses(400, 401, 403, 404),
)
async def read_delivery(
    delivery_id: FromPath[UUID], conn: Db, caller: Authenticated
) -> DeliveryDetail:
    require_manager(caller)
    found = await history.delivery(conn, caller.clinic_id, delivery_id)
    if found is None:
        raise not_found("webhook delivery")
    row, attempts = found
    return DeliveryDetail(
        **msgspec.structs.asdict(row),
        attempts=[AttemptOut(**msgspec.structs.asdict(attempt)) for attempt in attempts],
    )


@post(
    "/v1/webhook-endpoints/{endpoint_id:uuid}/replay",
    summary="Send again what the endpoint was given since a sequence number or a time",
    status_code=200,
    responses={
        200: ResponseSpec(data_container=Replayed, description="How many", generate_examples=False),
        **problem_responses(400, 401, 403, 404, 409, 413, 422),
    },
    operation_class=IDEMPOTENT_WRITE,
)
async def replay(
    request: Request,
    endpoint_id: FromPath[UUID],
    data: JSONBody[Replay],
    conn: Db,
    caller: Authenticated,
) -> Response[bytes]:
    if (data.since_sequence is None) == (data.since is None):
        raise Problem(
            422,
            "invalid_input",
            "Name one of since_sequence and since.",
            errors=[FieldError("since_sequence", "one of since_sequence and since")],
        )
    endpoint = await own_endpoint(conn, caller, endpoint_id, lock=True)
    if not endpoint.enabled:
        raise _disabled()

    async def produce() -> Reply:
        again = await history.replay(conn, endpoint_id, data.since_sequence, data.since)
        return reply(200, Replayed(again))

    return await idempotent(request, conn, caller, produce)


@post(
    "/v1/webhook-deliveries/{delivery_id:uuid}/retry",
    summary="Send a delivery again now",
    status_code=200,
    responses={
        200: ResponseSpec(
            data_container=DeliveryOut, description="The delivery, due now", generate_examples=False
        ),
        **problem_responses(400, 401, 403, 404, 409),
    },
    operation_class=IDEMPOTENT_WRITE,
)
async def retry(
    request: Request, delivery_id: FromPath[UUID], conn: Db, caller: Authenticated
) -> Response[bytes]:
    require_manager(caller)
    found = await history.delivery(conn, caller.clinic_id, delivery_id)
    if found is None:
        raise not_found("webhook delivery")
    endpoint = await own_endpoint(conn, caller, found[0].endpoint_id, lock=True)
    if not endpoint.enabled:
        raise _disabled()

    async def produce() -> Reply:
        await history.retry(conn, delivery_id)
        again = await history.delivery(conn, caller.clinic_id, delivery_id)
        assert again is not None  # noqa: S101 - read in the same transaction
        return reply(200, _out(again[0]))

    return await idempotent(request, conn, caller, produce)


ROUTES = [list_deliveries, read_delivery, replay, retry]
