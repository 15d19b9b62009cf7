"""FHIR R4 reads of goals, for other clinic systems: one Goal, a patient's Goals as a searchset
Bundle, and what this server can do (its CapabilityStatement).

Who may read what is the JSON API's own decision, made by the same code: a goal as
`GET /v1/goals/{goal_id}` loads it (a supporter gets the shared view), a patient's goals as
`GET /v1/clients/{client_id}/goals` allows them; refusals are the same statuses, said as
OperationOutcomes (services/api/fhir/outcomes.py).
"""

from datetime import UTC, date, datetime
from importlib.metadata import version
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

import msgspec
from litestar import Request, Response, get
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, QueryParameter

from domain.access.policy import GoalAction, View, view_of
from domain.goals.fhir import FHIR_JSON, goal_resource, trend_since
from domain.goals.fhir import View as FhirView
from domain.goals.progress import CountedCheckIn, local_day
from domain.goals.view import GoalDetail
from infra.db.connection import Connection
from infra.goals.check_ins import CheckInsSince, counted_since
from infra.goals.fhir_reads import client_goal_page, folded_goals, goal_records
from services.api.deps import Authenticated, Db
from services.api.errors import FieldError, Problem, not_found
from services.api.fhir.outcomes import outcome_responses
from services.api.goals.access import goal_writer, load_for, readable_client
from services.api.pages import decode_cursor, encode_cursor

FHIR_BASE = "/fhir/r4"
DEFAULT_COUNT = 20
MAX_COUNT = 100

Json = dict[str, Any]

Count = Annotated[
    int | None,
    QueryParameter(
        name="_count",
        ge=0,
        description=f"Goals per page ({DEFAULT_COUNT} if left out); more than {MAX_COUNT} "
        f"gives {MAX_COUNT}, 0 gives only the total.",
    ),
]
Cursor = Annotated[
    str | None,
    QueryParameter(
        name="_cursor", max_length=500, description="Where a page starts: from a `next` link."
    ),
]
Patient = Annotated[
    str | None,
    QueryParameter(description="The client: their id, or `Patient/` and their id. Required."),
]


def _fhir(
    resource: Json | msgspec.Struct, headers: dict[str, str] | None = None
) -> Response[bytes]:
    return Response(msgspec.json.encode(resource), media_type=FHIR_JSON, headers=headers)


def _documented(description: str) -> ResponseSpec:
    return ResponseSpec(
        data_container=dict[str, Any],
        description=description,
        media_type=FHIR_JSON,
        generate_examples=False,
    )


def _today(goal: GoalDetail) -> date:
    """The client's day, for a goal's trend: as the JSON API's lists reckon it."""
    return local_day(datetime.now(UTC), goal.terms.time_zone)


def _base(request: Request[Any, Any, Any]) -> str:
    return str(request.base_url).rstrip("/") + FHIR_BASE


@get(
    "/Goal/{goal_id:str}",
    summary="A goal as a FHIR R4 Goal",
    description="What `GET /v1/goals/{goal_id}` shows, as a Goal resource; `meta.versionId` "
    "(and the weak ETag) is the goal's version.",
    media_type=FHIR_JSON,
    responses={200: _documented("The Goal"), **outcome_responses(403, 404)},
)
async def read_fhir_goal(request: Request, goal_id: FromPath[str], conn: Db) -> Response[bytes]:
    try:
        wanted = UUID(goal_id)
    except ValueError:
        raise not_found("goal") from None
    if str(wanted) != goal_id.lower():
        raise not_found("goal")
    caller, loaded = await load_for(request, wanted, GoalAction.READ, GoalAction.READ_SHARED)
    record = (await goal_records(conn, {wanted: loaded.version}))[wanted]
    shared = view_of(caller, loaded.access) is not View.FULL
    view: FhirView = "shared" if shared else "full"
    today = _today(loaded.detail)
    check_ins = await _trend_check_ins(conn, {wanted: (loaded.detail, loaded.version)})
    resource = goal_resource(
        loaded.detail, record, view=view, today=today, check_ins=check_ins[wanted]
    )
    return _fhir(resource, {"ETag": f'W/"{loaded.version}"'})


async def _trend_check_ins(
    conn: Connection, goals: dict[UUID, tuple[GoalDetail, int]]
) -> dict[UUID, list[CountedCheckIn]]:
    """The check-ins each goal's trend is worked out from (none for a goal that shows none)."""
    wanted = []
    for goal_id, (detail, at_version) in goals.items():
        since = trend_since(detail, _today(detail))
        if since is not None:
            wanted.append(CheckInsSince(goal_id, at_version, since))
    found = await counted_since(conn, wanted) if wanted else {}
    return {goal_id: found.get(goal_id, []) for goal_id in goals}


def _client_of(patient: str | None) -> UUID:
    if patient is None:
        raise Problem(
            400,
            "patient_required",
            "Name the patient whose goals to search: `patient={client id}`.",
            errors=[FieldError("patient", "required")],
        )
    given = patient.removeprefix("Patient/")
    try:
        client_id = UUID(given)
    except ValueError:
        client_id = None
    # UUID() also reads braces, `urn:uuid:` and bare hex, which no reference to a Patient is.
    if client_id is None or str(client_id) != given.lower():
        raise Problem(
            400,
            "invalid_patient",
            "`patient` is a client's id, or `Patient/` and a client's id.",
            errors=[FieldError("patient", "not a client's id")],
        )
    return client_id


@get(
    "/Goal",
    summary="A client's goals as a FHIR searchset Bundle",
    description="Who may read them is who may read `GET /v1/clients/{client_id}/goals`. Goals "
    "come in the order they were set, a page at a time: a Bundle with a `next` link has more. "
    "`total` counts all the client's goals.",
    media_type=FHIR_JSON,
    responses={200: _documented("A searchset Bundle"), **outcome_responses(400, 403, 404, 422)},
)
async def search_fhir_goals(
    request: Request,
    conn: Db,
    caller: Authenticated,
    patient: Patient = None,
    count: Count = None,
    cursor: Cursor = None,
) -> Response[bytes]:
    client_id = _client_of(patient)
    await readable_client(conn, caller, client_id)
    after: tuple[int] = (0,) if cursor is None else decode_cursor(cursor, tuple[int], "_cursor")
    size = min(DEFAULT_COUNT if count is None else count, MAX_COUNT)
    # One more than the page, to know whether a next page starts after it.
    page = await client_goal_page(conn, client_id, after[0], size + 1 if size else 0)
    listed = page.goals[:size]
    folded = await folded_goals(conn, goal_writer(request).folds, [goal for goal, _ in listed])
    records = await goal_records(conn, {goal: item.version for goal, item in folded.items()})
    check_ins = await _trend_check_ins(
        conn, {goal: (item.detail, item.version) for goal, item in folded.items()}
    )
    base = _base(request)
    entries = [
        {
            "fullUrl": f"{base}/Goal/{goal_id}",
            "resource": goal_resource(
                folded[goal_id].detail,
                records[goal_id],
                today=_today(folded[goal_id].detail),
                check_ins=check_ins[goal_id],
            ),
            "search": {"mode": "match"},
        }
        for goal_id, _ in listed
    ]

    def link(relation: str, starting: str | None) -> Json:
        query = {"patient": str(client_id), "_count": str(size)}
        if starting is not None:
            query["_cursor"] = starting
        return {"relation": relation, "url": f"{base}/Goal?{urlencode(query)}"}

    links = [link("self", cursor)]
    if len(page.goals) > size:
        links.append(link("next", encode_cursor(listed[-1][1])))
    bundle: Json = {"resourceType": "Bundle", "type": "searchset", "total": page.total}
    bundle["link"] = links
    if entries:
        bundle["entry"] = entries
    return _fhir(bundle)


@get(
    "/metadata",
    summary="What this FHIR server offers: a CapabilityStatement",
    media_type=FHIR_JSON,
    responses={200: _documented("The CapabilityStatement"), **outcome_responses()},
)
async def fhir_capabilities(request: Request) -> Response[bytes]:
    goal = {
        "type": "Goal",
        "profile": "http://hl7.org/fhir/StructureDefinition/Goal",
        "interaction": [{"code": "read"}, {"code": "search-type"}],
        "searchParam": [
            {
                "name": "patient",
                "definition": "http://hl7.org/fhir/SearchParameter/clinical-patient",
                "type": "reference",
                "documentation": "The client whose goals to list; required.",
            }
        ],
    }
    return _fhir(
        {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": "2026-11-26",
            "kind": "instance",
            "software": {"name": "therapy-goals", "version": version("therapy-goals")},
            "implementation": {"description": "therapy-goals", "url": _base(request)},
            "fhirVersion": "4.0.1",
            "format": [FHIR_JSON],
            "rest": [
                {
                    "mode": "server",
                    "security": {"description": "A bearer token, as for the rest of the API."},
                    "resource": [goal],
                }
            ],
        }
    )


ROUTES = [read_fhir_goal, search_fhir_goals, fhir_capabilities]
