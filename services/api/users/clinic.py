"""A clinic's own settings, which its admins read and change."""

from typing import Annotated

import msgspec
from litestar import Request, Response, get, put
from litestar.openapi import ResponseSpec
from litestar.params import JSONBody

from infra.access import directory
from infra.access.directory import ClinicSettings
from services.api.deps import Authenticated, CorrelationId, Db
from services.api.errors import problem_responses
from services.api.users.access import known_time_zone, require_admin
from services.api.writes import IDEMPOTENT_WRITE, Reply, idempotent, metadata_for, reply


class ClinicSettingsBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    active_goal_limit: Annotated[int, msgspec.Meta(ge=1, le=50)]
    """Active goals a client may have before a new one comes with a warning (never refused)."""
    default_time_zone: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    """The time zone of a user registered without one."""
    max_token_lifetime_days: Annotated[int, msgspec.Meta(ge=1, le=365)]
    """No token lives longer; lowering it also ends older tokens that are past it."""


def _body(settings: ClinicSettings) -> ClinicSettingsBody:
    return ClinicSettingsBody(**msgspec.structs.asdict(settings))


@get(
    "/v1/clinic/settings",
    summary="The caller's clinic's settings (admins)",
    responses=problem_responses(401, 403),
)
async def read_settings(conn: Db, caller: Authenticated) -> ClinicSettingsBody:
    require_admin(caller)
    return _body(await directory.clinic_settings(conn, caller.clinic_id))


@put(
    "/v1/clinic/settings",
    summary="Change the caller's clinic's settings (admins)",
    responses={
        200: ResponseSpec(
            data_container=ClinicSettingsBody,
            description="The clinic's settings as changed",
            generate_examples=False,
        ),
        **problem_responses(400, 401, 403, 413, 422),
    },
    operation_class=IDEMPOTENT_WRITE,
)
async def change_settings(
    request: Request,
    data: JSONBody[ClinicSettingsBody],
    conn: Db,
    caller: Authenticated,
    correlation_id: CorrelationId,
) -> Response[bytes]:
    require_admin(caller)
    known_time_zone(data.default_time_zone, "default_time_zone")
    settings = ClinicSettings(**msgspec.structs.asdict(data))

    async def produce() -> Reply:
        if settings != await directory.clinic_settings(conn, caller.clinic_id):
            await directory.change_clinic_settings(
                conn, caller.clinic_id, settings, metadata_for(caller, correlation_id)
            )
        return reply(200, data)

    return await idempotent(request, conn, caller, produce)


ROUTES = [read_settings, change_settings]
