"""Errors of the FHIR routes, as FHIR OperationOutcomes.

The same refusals as everywhere in the API, decided by the same code: each of the API's error
handlers answers first, and its problem details (status, stable `code`, detail, field errors,
headers such as `WWW-Authenticate` and `Retry-After`) are then said again as an OperationOutcome,
in `application/fhir+json`. The stable code travels as a coding of the issue's details.
"""

from collections.abc import Callable, Mapping
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.openapi import ResponseSpec

from domain.goals.fhir import FHIR_JSON
from services.api.errors import EXCEPTION_HANDLERS, ProblemDetails, status_title

PROBLEM_CODES = "https://therapy-goals.example/problems"

# FHIR's issue types (http://hl7.org/fhir/issue-type) for the statuses the API answers with.
_ISSUE_TYPES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    409: "conflict",
    413: "too-costly",
    415: "not-supported",
    422: "invalid",
    429: "throttled",
    503: "transient",
}
# Anything any route may answer (services/api/errors.py), and what the FHIR routes add.
_ANY_ROUTE = (401, 429, 503)


class Coding(msgspec.Struct, frozen=True):
    system: str
    code: str


class IssueDetails(msgspec.Struct, frozen=True, omit_defaults=True):
    coding: list[Coding]
    text: str | None = None


class Issue(msgspec.Struct, frozen=True, omit_defaults=True):
    severity: str
    code: str
    """A FHIR issue type: not-found, forbidden, login, invalid, throttled, transient..."""
    details: IssueDetails
    diagnostics: str | None = None
    """The fields at fault, with what is wrong with each."""


class OperationOutcome(
    msgspec.Struct, frozen=True, tag="OperationOutcome", tag_field="resourceType"
):
    issue: list[Issue]


def outcome_of(problem: ProblemDetails) -> OperationOutcome:
    errors = problem.errors or []
    diagnostics = "; ".join(f"{error.field}: {error.message}" for error in errors) or None
    issue = Issue(
        severity="error" if problem.status < 500 else "fatal",
        code=_ISSUE_TYPES.get(problem.status, "exception"),
        details=IssueDetails([Coding(PROBLEM_CODES, problem.code)], problem.detail),
        diagnostics=diagnostics,
    )
    return OperationOutcome([issue])


Handler = Callable[[Request[Any, Any, Any], Any], Response[bytes]]


def _as_outcome(handler: Handler) -> Handler:
    def answer(request: Request[Any, Any, Any], error: Exception) -> Response[bytes]:
        problem_response = handler(request, error)
        problem = msgspec.json.decode(problem_response.content, type=ProblemDetails)
        headers = {
            name: value
            for name, value in problem_response.headers.items()
            if name.lower() not in {"content-type", "content-length"}
        }
        return Response(
            msgspec.json.encode(outcome_of(problem)),
            status_code=problem.status,
            media_type=FHIR_JSON,
            headers=headers,
        )

    return answer


FHIR_EXCEPTION_HANDLERS: Mapping[type[Exception], Handler] = {
    error: _as_outcome(handler)  # type: ignore[arg-type]
    for error, handler in EXCEPTION_HANDLERS.items()
}


def by_path(fhir_base: str) -> Mapping[type[Exception], Handler]:
    """The application's handlers: a request under `fhir_base` refused before it reaches a FHIR
    route (a malformed Host header, an unknown path or method) is answered as an
    OperationOutcome too, and any other as problem details."""

    def either(error: type[Exception]) -> Handler:
        def answer(request: Request[Any, Any, Any], exception: Exception) -> Response[bytes]:
            path = request.scope["path"]
            handlers = (
                FHIR_EXCEPTION_HANDLERS
                if path == fhir_base or path.startswith(f"{fhir_base}/")
                else EXCEPTION_HANDLERS
            )
            handler: Handler = handlers[error]  # type: ignore[assignment]
            return handler(request, exception)

        return answer

    return {error: either(error) for error in EXCEPTION_HANDLERS}


def outcome_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI documentation of the OperationOutcomes a FHIR route answers with, by status."""
    return {
        status: ResponseSpec(
            data_container=OperationOutcome,
            description=status_title(status),
            media_type=FHIR_JSON,
            generate_examples=False,
        )
        for status in sorted({*statuses, *_ANY_ROUTE})
    }
