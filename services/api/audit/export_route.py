"""The auditor's export: every event and access record of their clinic in a time range, as an
NDJSON stream."""

from datetime import UTC, datetime
from typing import Annotated

from litestar import Request, get
from litestar.openapi import ResponseSpec
from litestar.params import QueryParameter
from litestar.response import Stream

from domain.access.policy import may_export_audit
from infra.audit.export import ExportRange, export_lines
from services.api.audit.subject import ACCESS_LOGGED
from services.api.deps import Authenticated, Db
from services.api.errors import FieldError, Problem, forbidden, problem_responses
from services.api.moments import moment_of
from services.api.streams import streamed

NDJSON = "application/x-ndjson"
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)


def _range(start: str | None, end: str | None) -> tuple[datetime, datetime]:
    since = _EARLIEST if start is None else moment_of("from", start)
    until = datetime.now(UTC) if end is None else moment_of("to", end)
    if since >= until:
        raise Problem(
            400,
            "invalid_range",
            "`from` must come before `to`.",
            errors=[FieldError("from", "before `to`")],
        )
    return since, until


@get(
    "/v1/audit/export",
    summary="Every event and access record of the auditor's clinic in a time range, as NDJSON "
    "(the auditor)",
    description=(
        "One JSON object per line: first `kind` `event` lines, oldest first, each with its"
        " position, stream, version, type, time, data and metadata (who, role, why, correlation"
        " id, token), and `hash`/`previous_hash` (null until the log's hash chain exists); then"
        " `kind` `access` lines, the access log's records committed in the range by the clinic's"
        " callers, oldest first (who, role, token, clients and goals, route, path, status, when,"
        " correlation id); then one `kind` `end` line with the counts. A response without the"
        " end line was cut short. Streamed from one snapshot of the logs, with bounded memory"
        " however long the range. `from` (included) defaults to the beginning, `to` (excluded)"
        " to now."
    ),
    responses={
        200: ResponseSpec(data_container=str, media_type=NDJSON, description="NDJSON records"),
        **problem_responses(400, 401, 403),
    },
    opt={ACCESS_LOGGED: True},
)
async def audit_export(
    request: Request,
    conn: Db,
    caller: Authenticated,
    start: Annotated[
        str | None, QueryParameter(name="from", description="ISO 8601 time with offset")
    ] = None,
    end: Annotated[
        str | None, QueryParameter(name="to", description="ISO 8601 time with offset")
    ] = None,
) -> Stream:
    if not may_export_audit(caller):
        raise forbidden()
    since, until = _range(start, end)
    selected = ExportRange(since, until, caller.clinic_id)
    # `conn` stays this request's until the answer is sent (services/api/streams.py).
    return streamed(request, export_lines(conn, selected), NDJSON)


ROUTES = [audit_export]
