"""A client's record (HIPAA's right of access): every goal, event and check-in of the client,
as JSON or as a FHIR Bundle with Provenance, streamed a goal at a time from one snapshot."""

from collections.abc import AsyncGenerator, AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, get
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, QueryParameter
from litestar.response import Stream

from domain.access.policy import GoalAccess, may_read_record, view_of
from domain.goals.fhir import FHIR_JSON
from infra.db.connection import Connection
from infra.eventstore.store import read_stream
from infra.goals.queries import goal_ids_of_client
from infra.goals.streams import goal_stream
from services.api.audit.subject import ACCESS_LOGGED, note_reach
from services.api.deps import Authenticated, Db
from services.api.errors import FieldError, Problem, forbidden, not_found, problem_responses
from services.api.fhir.routes import FHIR_BASE
from services.api.goals.access import client_access
from services.api.record.content import goal_as_fhir_entries, goal_as_json
from services.api.streams import streamed

_FORMATS = {"json": "json", "application/json": "json", FHIR_JSON: "fhir", "fhir+json": "fhir"}


def _format(request: Request[Any, Any, Any], asked: str | None) -> str:
    """`_format` decides where given (as FHIR servers take it), else the Accept header."""
    if asked is not None:
        chosen = _FORMATS.get(asked.lower())
        if chosen is None:
            raise Problem(
                400,
                "invalid_format",
                "_format takes json or fhir+json.",
                errors=[FieldError("_format", "json or fhir+json")],
            )
        return chosen
    return "fhir" if FHIR_JSON in request.headers.get("accept", "") else "json"


async def _chunks(
    conn: Connection, client_id: UUID, fhir: bool, base: str, access: GoalAccess
) -> AsyncIterator[bytes]:
    generated = msgspec.json.encode(datetime.now(UTC)).decode()
    if fhir:
        yield (
            f'{{"resourceType":"Bundle","type":"collection","timestamp":{generated},"entry":['
        ).encode()
    else:
        yield f'{{"client_id":"{client_id}","generated_at":{generated},"goals":['.encode()
    first = True
    for goal_id in await goal_ids_of_client(conn, client_id):
        recorded = await read_stream(conn, goal_stream(goal_id))
        if not recorded:
            continue
        part = (
            goal_as_fhir_entries(goal_id, recorded, base)
            if fhir
            else await goal_as_json(conn, access, recorded)
        )
        yield part if first else b"," + part
        first = False
    yield b"]}"


@get(
    "/v1/clients/{client_id:uuid}/record",
    summary="A client's whole record: every goal, event and check-in (the client, their "
    "therapists, an auditor)",
    description=(
        "As JSON (`goals`: each goal as `GET /v1/goals/{id}` shows it, all its check-ins, those"
        " entered in error marked, and all its events as its history shows them), or, with"
        " `Accept: application/fhir+json` or `_format=fhir+json`, as a FHIR R4 Bundle of type"
        " collection: each goal's Goal, a Provenance per event (the version it made, who, when,"
        " why) and an Observation per check-in. One snapshot of the log, streamed a goal at a"
        " time."
    ),
    responses={
        200: ResponseSpec(data_container=dict[str, Any], description="The client's record"),
        **problem_responses(400, 401, 403, 404),
    },
    opt={ACCESS_LOGGED: True},
)
async def client_record(
    request: Request,
    client_id: FromPath[UUID],
    conn: Db,
    caller: Authenticated,
    format_: Annotated[
        str | None, QueryParameter(name="_format", description="json or fhir+json")
    ] = None,
) -> Stream:
    note_reach(request, clients=(client_id,))
    fhir = _format(request, format_) == "fhir"
    access = await client_access(conn, caller, client_id)
    if access is None or view_of(caller, access) is None:
        raise not_found("client")
    if not may_read_record(caller, access):
        raise forbidden()
    base = str(request.base_url).rstrip("/") + FHIR_BASE

    async def body() -> AsyncGenerator[bytes, None]:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            async for chunk in _chunks(conn, client_id, fhir, base, access):
                yield chunk

    # `conn` stays this request's until the answer is sent (services/api/streams.py).
    return streamed(request, body(), FHIR_JSON if fhir else "application/json")


ROUTES = [client_record]
