"""Who manages a clinic's webhooks (its admins and integration users), and the checks on what
they register."""

from uuid import UUID

from litestar import Request

from domain.access.policy import Caller
from domain.webhooks.types import unknown_types
from infra.db.connection import Connection
from infra.webhooks import endpoints
from infra.webhooks.addresses import AddressGuard, Refused
from infra.webhooks.endpoints import EndpointRow
from services.api.errors import FieldError, Problem, forbidden, not_found

MANAGERS = ("admin", "integration")


def require_manager(caller: Caller) -> None:
    if caller.role not in MANAGERS:
        raise forbidden()


async def own_endpoint(
    conn: Connection, caller: Caller, endpoint_id: UUID, *, lock: bool = False
) -> EndpointRow:
    require_manager(caller)
    found = await endpoints.find(conn, caller.clinic_id, endpoint_id, lock=lock)
    if found is None:
        raise not_found("webhook endpoint")
    return found


def known_types(event_types: list[str]) -> None:
    unknown = unknown_types(event_types)
    if unknown:
        raise Problem(
            422,
            "unknown_event_type",
            "Event types are goal.set, goal.adjusted, goal.progress_recorded, goal.achieved, "
            "goal.missed, goal.paused, goal.resumed, goal.cancelled, goal.corrected, goal.rated, "
            'nudge.sent, or ["*"] alone.',
            errors=[
                FieldError(f"event_types[{event_types.index(name)}]", f"unknown: {name!r}")
                for name in unknown
            ],
        )


async def allowed_url(request: Request, url: str) -> None:
    """Refuses a URL that is not https, or whose host resolves to an internal address."""
    guard: AddressGuard = request.app.state.webhook_guard
    try:
        await guard.target(url)
    except Refused as refused:
        raise Problem(
            422, refused.code, refused.detail, errors=[FieldError("url", refused.detail)]
        ) from None
