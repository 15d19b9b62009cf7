"""What a clinic's admin (or integration user) does to its webhook endpoints, with the API's
rules, for the API's routes and the admin's pages alike."""

import uuid
from datetime import datetime
from uuid import UUID

import msgspec
from litestar import Request

from domain.access.policy import Caller
from infra.db.connection import Connection
from infra.webhooks import endpoints
from infra.webhooks.endpoints import EndpointRow
from infra.webhooks.outcomes import disable
from infra.webhooks.signing import new_secret
from services.api.errors import not_found
from services.api.webhooks.access import allowed_url, known_types, own_endpoint, require_manager
from services.api.webhooks.schemas import EndpointCreated, NewEndpoint


async def checked(request: Request, caller: Caller, data: NewEndpoint) -> None:
    """Refuses a registration the caller may not make, or whose types or URL are refused."""
    require_manager(caller)
    known_types(data.event_types)
    await allowed_url(request, data.url)


async def create(conn: Connection, caller: Caller, data: NewEndpoint) -> EndpointCreated:
    """The endpoint, with its new signing secret (which nothing keeps to show again)."""
    secret = new_secret()
    row = await endpoints.create(
        conn,
        endpoints.NewEndpoint(
            uuid.uuid4(),
            caller.clinic_id,
            data.url,
            data.event_types,
            data.format,
            data.description,
            secret,
        ),
    )
    return EndpointCreated(**msgspec.structs.asdict(row), secret=secret)


async def stop_sending(conn: Connection, caller: Caller, endpoint_id: UUID) -> EndpointRow:
    await own_endpoint(conn, caller, endpoint_id, lock=True)
    await disable(conn, endpoint_id, "by_user")
    return await own_endpoint(conn, caller, endpoint_id)


async def send_again(conn: Connection, caller: Caller, endpoint_id: UUID) -> EndpointRow:
    await own_endpoint(conn, caller, endpoint_id)
    enabled = await endpoints.enable(conn, caller.clinic_id, endpoint_id)
    if enabled is None:
        raise not_found("webhook endpoint")
    return enabled


async def rotate(conn: Connection, caller: Caller, endpoint_id: UUID) -> tuple[str, datetime]:
    """A new signing secret, and when the old one, signing beside it meanwhile, stops."""
    await own_endpoint(conn, caller, endpoint_id)
    secret = new_secret()
    expires = await endpoints.rotate_secret(conn, caller.clinic_id, endpoint_id, secret)
    if expires is None:
        raise not_found("webhook endpoint")
    return secret, expires
