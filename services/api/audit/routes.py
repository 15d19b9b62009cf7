"""The audit trail's reads: the access log for a clinic's auditor, a client's account of who read
their goals, and the clinic's administrative actions.

These reads are not themselves access-logged: they show no goal's content, and a record of each
look at the log would grow the log with every look at it.
"""

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import get
from litestar.params import QueryParameter

from domain.access.policy import Caller
from infra.audit.access_reads import (
    AccessFilter,
    AccessRow,
    DisclosureFilter,
    audited_access,
    disclosures_to,
)
from infra.audit.admin_actions import AdminAction, admin_actions
from infra.eventstore.envelope import Metadata
from services.api.audit.schemas import (
    AccessLogPage,
    AccessRecordOut,
    AdminActionOut,
    AdminActionPage,
    DisclosureOut,
    DisclosurePage,
)
from services.api.deps import Authenticated, Db
from services.api.errors import Problem, forbidden, problem_responses
from services.api.pages import DEFAULT_PAGE_SIZE, Cursor, PageSize, decode_cursor, encode_cursor

Since = Annotated[
    datetime | None, QueryParameter(description="Only what happened at or after this moment.")
]
Until = Annotated[
    datetime | None, QueryParameter(description="Only what happened before this moment.")
]


def require_auditor(caller: Caller) -> None:
    if caller.role != "auditor":
        raise forbidden()


def _after(cursor: str | None) -> int | None:
    return None if cursor is None else int(decode_cursor(cursor, tuple[int])[0])


def _access_page(rows: list[AccessRow], limit: int) -> AccessLogPage:
    page = rows[:limit]
    more = len(rows) > limit
    return AccessLogPage(
        records=[AccessRecordOut(**msgspec.structs.asdict(row)) for row in page],
        next_cursor=encode_cursor(page[-1].id) if more else None,
    )


@get(
    "/v1/audit/access-log",
    summary="Who read goal data, when, and with what outcome (auditors)",
    description="Every request to a goal-reading route of the auditor's clinic, newest first; "
    "refused ones too, with their status.",
    responses=problem_responses(400, 401, 403, 422),
)
async def audit_access_log(
    conn: Db,
    caller: Authenticated,
    client_id: Annotated[
        UUID | None, QueryParameter(description="Only reads of this client's goals.")
    ] = None,
    user_id: Annotated[UUID | None, QueryParameter(description="Only reads by this user.")] = None,
    since: Since = None,
    until: Until = None,
    limit: PageSize = DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
) -> AccessLogPage:
    require_auditor(caller)
    wanted = AccessFilter(
        caller.clinic_id, limit + 1, client_id, user_id, since, until, _after(cursor)
    )
    return _access_page(await audited_access(conn, wanted), limit)


@get(
    "/v1/me/access-log",
    summary="Who was shown my goals (clients): an accounting of disclosures",
    description="Every answered read of the client's goals, by anyone (supporters too), and "
    "every webhook delivery of their goals' events that a receiver acknowledged, newest first; "
    "of each, only the client's own goals.",
    responses=problem_responses(400, 401, 403, 422),
)
async def my_access_log(
    conn: Db,
    caller: Authenticated,
    since: Since = None,
    until: Until = None,
    limit: PageSize = DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
) -> DisclosurePage:
    if caller.role != "client":
        raise Problem(
            403,
            "no_access_log_of_your_own",
            "Only clients have an account of who was shown their goals.",
        )
    before = None if cursor is None else decode_cursor(cursor, tuple[datetime, str])
    wanted = DisclosureFilter(caller.clinic_id, caller.user_id, limit + 1, since, until, before)
    found = await disclosures_to(conn, wanted)
    page = found[:limit]
    fields = set(DisclosureOut.__struct_fields__)
    return DisclosurePage(
        disclosures=[
            DisclosureOut(**{k: v for k, v in msgspec.structs.asdict(row).items() if k in fields})
            for row in page
        ],
        next_cursor=encode_cursor(page[-1].at, page[-1].key) if len(found) > limit else None,
    )


def _action_out(action: AdminAction) -> AdminActionOut:
    metadata = msgspec.json.decode(action.metadata, type=Metadata)
    data: dict[str, Any] = msgspec.json.decode(action.data)
    return AdminActionOut(
        position=action.position,
        stream_id=action.stream_id,
        type=action.event_type,
        data=data,
        actor_id=metadata.actor_id,
        actor_role=metadata.actor_role,
        token_id=metadata.token_id,
        correlation_id=metadata.correlation_id,
        reason=metadata.reason,
        recorded_at=action.recorded_at,
    )


@get(
    "/v1/audit/admin-actions",
    summary="The clinic's administrative actions: users, tokens, invitations, care teams",
    description="From the event log, newest first: the clinic's settings, users registered, "
    "edited and deactivated, tokens issued and revoked, invitations, therapists assigned and "
    "unassigned, each with who did it, with which token, and the correlation id.",
    responses=problem_responses(400, 401, 403, 422),
)
async def audit_admin_actions(
    conn: Db,
    caller: Authenticated,
    since: Since = None,
    until: Until = None,
    limit: PageSize = DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
) -> AdminActionPage:
    require_auditor(caller)
    found = await admin_actions(
        conn,
        caller.clinic_id,
        since=since,
        until=until,
        before_position=_after(cursor),
        limit=limit + 1,
    )
    page = found[:limit]
    return AdminActionPage(
        actions=[_action_out(action) for action in page],
        next_cursor=encode_cursor(page[-1].position) if len(found) > limit else None,
    )


ROUTES = [audit_access_log, my_access_log, audit_admin_actions]
