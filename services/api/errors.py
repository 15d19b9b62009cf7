"""Every error leaves the API as RFC 9457 problem details with a stable `code`."""

import re

import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, SerializationException, ValidationException
from litestar.openapi import ResponseSpec
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from domain.goals.errors import GoalRuleViolation
from infra.db.outages import unreachable
from infra.eventstore.store import WrongExpectedVersion

log = structlog.get_logger(__name__)

PROBLEM_JSON = "application/problem+json"
# Long enough for a restarting PostgreSQL, short enough that a client's retry soon finds it back.
RETRY_AFTER_SECONDS = 2


class FieldError(msgspec.Struct, frozen=True):
    field: str
    message: str


class ProblemDetails(msgspec.Struct, frozen=True, omit_defaults=True):
    type: str
    title: str
    status: int
    code: str
    detail: str | None = None
    errors: list[FieldError] | None = None
    current_version: int | None = None


class Problem(Exception):
    """An error the API answers with on purpose."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        errors: list[FieldError] | None = None,
        current_version: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.headers = headers
        self.status = status
        self.code = code
        self.detail = detail
        self.errors = errors
        self.current_version = current_version


def not_found(what: str = "resource") -> Problem:
    return Problem(404, "not_found", f"No such {what}.")


def forbidden() -> Problem:
    return Problem(403, "forbidden", "You may not do this.")


_TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    428: "Precondition required",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


def status_title(status: int) -> str:
    return _TITLES.get(status, "Error")


def _response(problem: ProblemDetails, headers: dict[str, str] | None = None) -> Response[bytes]:
    return Response(
        msgspec.json.encode(problem),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def _details(status: int, code: str, detail: str | None, **extra: object) -> ProblemDetails:
    return ProblemDetails(
        type=f"https://therapy-goals.example/problems/{code.replace('_', '-')}",
        title=status_title(status),
        status=status,
        code=code,
        detail=detail,
        **extra,  # type: ignore[arg-type]
    )


def on_problem(_: Request, error: Problem) -> Response[bytes]:
    return _response(
        _details(
            error.status,
            error.code,
            error.detail,
            errors=error.errors,
            current_version=error.current_version,
        ),
        headers=error.headers,
    )


def on_rule_violation(_: Request, error: GoalRuleViolation) -> Response[bytes]:
    errors = [FieldError(error.field, error.message)] if error.field else None
    return _response(_details(422, error.code, error.message, errors=errors))


def on_version_conflict(_: Request, error: WrongExpectedVersion) -> Response[bytes]:
    return _response(
        _details(
            409,
            "version_conflict",
            "The goal changed since you read it; reload it and try again.",
            current_version=error.actual_version,
        ),
        headers={"ETag": f'"{error.actual_version}"'},
    )


REFUSED_BODY = "refused_body"
"""Where the request's state keeps what the strict reading of its body refused."""

_NAMED_FIELD = re.compile(r"(?:missing required|contains unknown) field `([^`]+)`")


def _field_path(key: object, message: str) -> str:
    """The path of the field at fault: msgspec names a missing or unknown field only in its
    message, with the key pointing at the object that holds it."""
    path = "" if key in (None, "", "data") else str(key)
    named = _NAMED_FIELD.search(message)
    if named:
        path = f"{path}.{named.group(1)}" if path else named.group(1)
    return path or "body"


def _required_fields(request: Request) -> list[str]:
    data_field = request.route_handler.parsed_data_field
    body_type = None if data_field is None else data_field.annotation
    if not (isinstance(body_type, type) and issubclass(body_type, msgspec.Struct)):
        return []
    fields = body_type.__struct_fields__
    return list(fields[: len(fields) - len(body_type.__struct_defaults__)])


def _missing_body(request: Request) -> FieldError:
    """Litestar says only `'data'` when a required body is absent."""
    required = _required_fields(request)
    message = "This request needs a JSON body"
    if required:
        message += ", with at least " + ", ".join(f"`{name}`" for name in required)
    return FieldError("body", message + ".")


def _field_error(request: Request, item: dict[str, object]) -> FieldError:
    key, message = item.get("key"), str(item.get("message"))
    if key == "data" and message == "'data'":
        return _missing_body(request)
    return FieldError(_field_path(key, message), message)


def on_validation(request: Request, error: ValidationException) -> Response[bytes]:
    # What the strict reading of the body found (services/api/bodies.py), when there is any.
    refused = request.state.get(REFUSED_BODY)
    if isinstance(refused, ValidationException):
        error = refused
    extra = error.extra if isinstance(error.extra, list) else []
    if not extra:
        return _response(_details(400, "malformed_body", "The body is not valid JSON."))
    errors = [_field_error(request, item) for item in extra if isinstance(item, dict)]
    return _response(
        _details(422, "invalid_input", "Some fields are missing or not valid.", errors=errors)
    )


def on_http_exception(_: Request, error: HTTPException) -> Response[bytes]:
    if isinstance(error.__cause__, SerializationException):
        return _response(_details(400, "malformed_body", "The body is not valid JSON."))
    status = error.status_code
    code = {
        401: "not_authenticated",
        404: "not_found",
        405: "method_not_allowed",
        413: "body_too_large",
        415: "unsupported_media_type",
        429: "rate_limited",
    }.get(status, "bad_request" if status < 500 else "internal_error")
    detail = error.detail if status < 500 else "Something went wrong on our side."
    return _response(_details(status, code, detail), headers=error.headers)


def unavailable_body(code: str, detail: str) -> bytes:
    """A 503's body: nothing could be done just now, and the same request may be sent again
    after `Retry-After` seconds (docs/api.md says what a retry of each write answers)."""
    return msgspec.json.encode(_details(503, code, detail))


RATE_LIMITED_DETAIL = (
    "This caller sent more requests than its rate limit allows; nothing was done. "
    "Send the request again after Retry-After seconds."
)


def rate_limited_body() -> bytes:
    """A 429's body, the same whether the route refused or the layer ahead of it
    (services/api/over_limit.py)."""
    return msgspec.json.encode(_details(429, "rate_limited", RATE_LIMITED_DETAIL))


RETRY_AFTER = {"Retry-After": str(RETRY_AFTER_SECONDS)}


def database_unavailable() -> Response[bytes]:
    body = unavailable_body(
        "database_unavailable",
        "The database cannot be reached just now; send the same request again shortly.",
    )
    return Response(body, status_code=503, media_type=PROBLEM_JSON, headers=dict(RETRY_AFTER))


def on_unexpected(request: Request, error: Exception) -> Response[bytes]:
    if unreachable(error):
        # Said once per outage by the watch, not once per request.
        watch = request.app.state.get("database_watch")
        if watch is not None:
            watch.failed(error)
        return database_unavailable()
    log.error("unhandled_error", path=request.scope.get("path_template"), exc_info=error)
    return _response(
        _details(
            HTTP_500_INTERNAL_SERVER_ERROR, "internal_error", "Something went wrong on our side."
        )
    )


EXCEPTION_HANDLERS = {
    Problem: on_problem,
    GoalRuleViolation: on_rule_violation,
    WrongExpectedVersion: on_version_conflict,
    ValidationException: on_validation,
    HTTPException: on_http_exception,
    Exception: on_unexpected,
}


# What any route may answer, whatever it does: too many requests from its caller, or its
# database out of reach.
_ANY_ROUTE = (429, 503)


def problem_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI documentation of the problem details a route answers with, by status, besides
    those any route may answer (429 and 503, with `Retry-After`)."""
    return {
        status: ResponseSpec(
            data_container=ProblemDetails,
            description=_TITLES[status],
            media_type=PROBLEM_JSON,
            generate_examples=False,
        )
        for status in sorted({*statuses, *_ANY_ROUTE})
    }
