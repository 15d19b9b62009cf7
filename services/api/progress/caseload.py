"""A therapist's caseload and a client's overview, as both the JSON API and the therapist's
pages read them: one function each, so that a page shows exactly what the API answers."""

import base64
import binascii
from datetime import UTC, datetime
from typing import Literal
from uuid import UUID

import msgspec
from anyio import to_thread
from litestar import Request

from domain.access.policy import Caller
from domain.goals.attainment import t_score
from domain.goals.caseload import client_flags
from domain.goals.progress import CountedCheckIn
from domain.goals.summary import GoalSummary
from infra.access import queries
from infra.db.connection import Connection
from infra.projections import reads
from services.api.audit.subject import note_reach
from services.api.errors import Problem, forbidden
from services.api.goals.access import readable_client
from services.api.progress.schemas import CaseloadEntry, CaseloadPage, OverviewOut
from services.api.progress.views import projected

CaseloadOrder = Literal["flags", "name"]

_COUNTED = ("active", "paused", "achieved", "missed", "cancelled")


async def overview_of(
    request: Request,
    conn: Connection,
    caller: Caller,
    client_id: UUID,
    min_position: int | None = None,
) -> OverviewOut:
    """The client's goals at a glance, with GAS: 404 if the caller may not know of the client,
    403 if they may know of them but not read their goals."""
    await readable_client(request, conn, caller, client_id)
    mark = await reads.wait_for(conn, min_position)
    found = await reads.summaries_of_clients(conn, [client_id])
    summaries = found.goals
    counts = dict.fromkeys(_COUNTED, 0)
    for summary in summaries:
        if summary.status in counts:
            counts[summary.status] += 1
    ratings = [
        summary.attainment_rating
        for summary in summaries
        if summary.attainment_rating is not None and summary.status != "entered_in_error"
    ]
    limit = await queries.active_goal_limit(conn, caller.clinic_id)
    return OverviewOut(
        client_id=client_id,
        **counts,
        overloaded=counts["active"] > limit,
        rated_goals=len(ratings),
        attainment_t_score=None if not ratings else round(t_score(ratings) or 0, 1),
        projected=projected(mark.covering(found)),
    )


class _Cursor(msgspec.Struct, frozen=True):
    """Where a page ended: the last entry's sort key, so the next page starts after it."""

    flags: int
    name: str
    client_id: str


def _encode_cursor(entry: CaseloadEntry) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(_key_of(entry))).decode()


def _decode_cursor(cursor: str) -> _Cursor:
    try:
        return msgspec.json.decode(base64.urlsafe_b64decode(cursor), type=_Cursor)
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise Problem(400, "invalid_cursor", "This cursor is not one we gave out.") from None


def _sort_key(key: _Cursor, order: CaseloadOrder) -> tuple[int | str, ...]:
    if order == "name":
        return (key.name, key.client_id)
    return (key.flags, key.name, key.client_id)


def _key_of(entry: CaseloadEntry) -> _Cursor:
    return _Cursor(-entry.flag_count, entry.display_name.lower(), str(entry.client_id))


def _caseload_entry(
    client_id: UUID,
    name: str,
    goals: list[GoalSummary],
    check_ins: dict[UUID, list[CountedCheckIn]],
    now: datetime,
) -> CaseloadEntry:
    flags = client_flags(goals, check_ins, now)
    return CaseloadEntry(
        client_id=client_id,
        display_name=name,
        active_goals=sum(1 for goal in goals if goal.status == "active"),
        no_check_in_7_days=flags.no_recent_check_in,
        behind_pace=flags.behind_pace,
        due_within_7_days=flags.due_soon,
        missed_last_14_days=flags.recently_missed,
        flag_count=flags.count,
    )


async def caseload_of(
    request: Request,
    conn: Connection,
    caller: Caller,
    *,
    sort: CaseloadOrder = "flags",
    limit: int = 50,
    cursor: str | None = None,
    min_position: int | None = None,
) -> CaseloadPage:
    """One page of the therapist's clients, who needs attention first unless sorted by name;
    403 for anyone but a therapist, 400 for a cursor this never gave out."""
    if caller.role != "therapist":
        raise forbidden()
    after = None if cursor is None else _decode_cursor(cursor)
    mark = await reads.wait_for(conn, min_position)
    client_ids = await queries.clients_of(conn, caller.user_id)
    people = await queries.users_by_id(conn, client_ids)
    found = await reads.summaries_of_clients(conn, client_ids)
    summaries = found.goals
    note_reach(request, clients=client_ids, goals=[summary.goal_id for summary in summaries])
    check_ins = await reads.counted_check_ins(
        conn, [summary.goal_id for summary in summaries if summary.status == "active"]
    )
    by_client: dict[UUID, list[GoalSummary]] = {client_id: [] for client_id in client_ids}
    for summary in summaries:
        by_client[summary.client_id].append(summary)
    now = datetime.now(UTC)

    def entries() -> list[CaseloadEntry]:
        return [
            _caseload_entry(client_id, people[client_id].display_name, goals, check_ins, now)
            for client_id, goals in by_client.items()
        ]

    # Off the event loop: a large caseload with many check-ins must not hold up other requests.
    ordered = sorted(
        await to_thread.run_sync(entries), key=lambda entry: _sort_key(_key_of(entry), sort)
    )
    if after is not None:
        start = _sort_key(after, sort)
        ordered = [entry for entry in ordered if _sort_key(_key_of(entry), sort) > start]
    page = ordered[:limit]
    more = len(ordered) > limit
    return CaseloadPage(
        clients=page,
        next_cursor=_encode_cursor(page[-1]) if more else None,
        projected=projected(mark.covering(found)),
    )
