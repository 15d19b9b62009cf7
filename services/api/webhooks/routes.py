"""A clinic's webhook endpoints: registered, changed, paused and resumed, deleted, their secret
rotated. Admins and integration users of the clinic only."""

from uuid import UUID

import msgspec
from litestar import Request, Response, delete, get, patch, post
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_204_NO_CONTENT

from infra.webhooks import endpoints
from infra.webhooks.endpoints import Changes, EndpointRow
from services.api.deps import Authenticated, Db
from services.api.errors import not_found, problem_responses
from services.api.webhooks import actions, deliveries
from services.api.webhooks.access import (
    allowed_url,
    known_types,
    own_endpoint,
    require_manager,
)
from services.api.webhooks.schemas import (
    EndpointChanges,
    EndpointCreated,
    EndpointList,
    EndpointOut,
    NewEndpoint,
    RotatedSecret,
)
from services.api.writes import (
    IDEMPOTENT_WRITE,
    Reply,
    idempotent,
    idempotent_without_body,
    reply,
)

PATH = "/v1/webhook-endpoints"


def _out(row: EndpointRow) -> EndpointOut:
    return EndpointOut(**msgspec.structs.asdict(row))


@post(
    PATH,
    summary="Register a webhook endpoint (admins, integration users)",
    responses={
        201: ResponseSpec(
            data_container=EndpointCreated,
            description="The endpoint, with its signing secret (shown once)",
            generate_examples=False,
        ),
        **problem_responses(400, 401, 403, 413, 422),
    },
    operation_class=IDEMPOTENT_WRITE,
)
async def create_endpoint(
    request: Request, data: JSONBody[NewEndpoint], conn: Db, caller: Authenticated
) -> Response[bytes]:
    await actions.checked(request, caller, data)

    async def produce() -> Reply:
        return reply(201, await actions.create(conn, caller, data))

    def without_secret(result: Reply) -> Reply:
        """A retry with the same key gets the endpoint back, but its secret is kept nowhere."""
        shown = msgspec.json.decode(result.body, type=EndpointCreated)
        fields = msgspec.structs.asdict(shown)
        del fields["secret"]
        return reply(result.status_code, EndpointOut(**fields))

    return await idempotent(request, conn, caller, produce, kept_as=without_secret)


@get(PATH, summary="The clinic's webhook endpoints", responses=problem_responses(401, 403))
async def list_endpoints(conn: Db, caller: Authenticated) -> EndpointList:
    require_manager(caller)
    return EndpointList([_out(row) for row in await endpoints.of_clinic(conn, caller.clinic_id)])


@get(
    PATH + "/{endpoint_id:uuid}",
    summary="A webhook endpoint",
    responses=problem_responses(400, 401, 403, 404),
)
async def read_endpoint(
    endpoint_id: FromPath[UUID], conn: Db, caller: Authenticated
) -> EndpointOut:
    return _out(await own_endpoint(conn, caller, endpoint_id))


def _spec(container: type, description: str) -> ResponseSpec:
    return ResponseSpec(data_container=container, description=description, generate_examples=False)


@patch(
    PATH + "/{endpoint_id:uuid}",
    summary="Change a webhook endpoint's URL, event types, format or description",
    responses={
        200: _spec(EndpointOut, "The endpoint as changed"),
        **problem_responses(400, 401, 403, 404, 413, 422),
    },
    operation_class=IDEMPOTENT_WRITE,
)
async def change_endpoint(
    request: Request,
    endpoint_id: FromPath[UUID],
    data: JSONBody[EndpointChanges],
    conn: Db,
    caller: Authenticated,
) -> Response[bytes]:
    await own_endpoint(conn, caller, endpoint_id)
    if data.event_types is not None:
        known_types(data.event_types)
    if data.url is not None:
        await allowed_url(request, data.url)

    async def produce() -> Reply:
        changed = await endpoints.change(
            conn, caller.clinic_id, endpoint_id, Changes(**msgspec.structs.asdict(data))
        )
        if changed is None:
            raise not_found("webhook endpoint")
        return reply(200, _out(changed))

    return await idempotent(request, conn, caller, produce)


@delete(
    PATH + "/{endpoint_id:uuid}",
    summary="Delete a webhook endpoint; its deliveries stay on record",
    status_code=HTTP_204_NO_CONTENT,
    responses=problem_responses(400, 401, 403, 404),
    operation_class=IDEMPOTENT_WRITE,
)
async def delete_endpoint(
    request: Request, endpoint_id: FromPath[UUID], conn: Db, caller: Authenticated
) -> Response[None]:
    await own_endpoint(conn, caller, endpoint_id)

    async def write() -> None:
        await endpoints.delete(conn, caller.clinic_id, endpoint_id)

    return await idempotent_without_body(request, conn, caller, write)


@post(
    PATH + "/{endpoint_id:uuid}/disable",
    summary="Stop sending to a webhook endpoint; its events are still recorded, as held",
    status_code=200,
    responses={
        200: _spec(EndpointOut, "The endpoint, disabled"),
        **problem_responses(400, 401, 403, 404),
    },
    operation_class=IDEMPOTENT_WRITE,
)
async def disable_endpoint(
    request: Request, endpoint_id: FromPath[UUID], conn: Db, caller: Authenticated
) -> Response[bytes]:
    await own_endpoint(conn, caller, endpoint_id, lock=True)

    async def produce() -> Reply:
        return reply(200, _out(await actions.stop_sending(conn, caller, endpoint_id)))

    return await idempotent(request, conn, caller, produce)


@post(
    PATH + "/{endpoint_id:uuid}/enable",
    summary="Send to a webhook endpoint again; replay sends what was held meanwhile",
    status_code=200,
    responses={
        200: _spec(EndpointOut, "The endpoint, enabled"),
        **problem_responses(400, 401, 403, 404),
    },
    operation_class=IDEMPOTENT_WRITE,
)
async def enable_endpoint(
    request: Request, endpoint_id: FromPath[UUID], conn: Db, caller: Authenticated
) -> Response[bytes]:
    await own_endpoint(conn, caller, endpoint_id)

    async def produce() -> Reply:
        return reply(200, _out(await actions.send_again(conn, caller, endpoint_id)))

    return await idempotent(request, conn, caller, produce)


@post(
    PATH + "/{endpoint_id:uuid}/rotate-secret",
    summary="A new signing secret; the old one signs beside it for 24 hours",
    status_code=200,
    responses={
        200: _spec(RotatedSecret, "The new secret (shown once) and when the old one stops"),
        **problem_responses(400, 401, 403, 404),
    },
    operation_class=IDEMPOTENT_WRITE,
)
async def rotate_secret(
    request: Request, endpoint_id: FromPath[UUID], conn: Db, caller: Authenticated
) -> Response[bytes]:
    await own_endpoint(conn, caller, endpoint_id)

    async def produce() -> Reply:
        secret, expires = await actions.rotate(conn, caller, endpoint_id)
        return reply(200, RotatedSecret(expires, secret))

    def without_secret(result: Reply) -> Reply:
        shown = msgspec.json.decode(result.body, type=RotatedSecret)
        return reply(result.status_code, msgspec.structs.replace(shown, secret=None))

    return await idempotent(request, conn, caller, produce, kept_as=without_secret)


ROUTES = [
    create_endpoint,
    list_endpoints,
    read_endpoint,
    change_endpoint,
    delete_endpoint,
    disable_endpoint,
    enable_endpoint,
    rotate_secret,
    *deliveries.ROUTES,
]
