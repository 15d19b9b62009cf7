"""Every request to a goal-reading route leaves exactly one access record, committed before the
answer starts.

The record is made where the answer's first message passes (`http.response.start`): by then the
route has answered or refused, so the status is known, and nothing of the answer has left the
process. The request waits for its record's batch to commit (infra/audit/access_log.py) and only
then lets the answer go. So:

- every answer a client received has its record, even if the process is killed a moment later;
- a refusal is recorded like an answer, with its status (401 with no caller, 403, 404, 422, 429):
  an attempt to read is itself worth accounting for;
- one request passes this point once, so it is recorded once;
- when the record cannot be committed (the database is away), the answer is replaced by a 503:
  no goal data leaves without its record. An answer that is a 5xx already goes as it is: it
  shows nothing, and says better what went wrong.

A request turned away before it reaches a route (503 for want of room, 404 for a path that names
no route) reads nothing and is not recorded.
"""

from datetime import UTC, datetime

import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send

from infra.audit.access_log import AccessRecord
from infra.db.batches import Batcher
from services.api.admission import unavailable
from services.api.audit.subject import ACCESS_LOGGED, noted

log = structlog.get_logger(__name__)

AccessRecorder = Batcher[AccessRecord, None]


def storable(text: str) -> str:
    """`text` as PostgreSQL can store it: a path decodes to whatever a client sent, a NUL or
    bytes that are not UTF-8 included, and one record PostgreSQL refuses would refuse its whole
    batch, other people's reads with it."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def _record(scope: HTTPScope, requested_at: datetime, status: int) -> AccessRecord:
    state = scope.get("state", {})
    caller, clients, goals = noted(state)
    return AccessRecord(
        requested_at=requested_at,
        method=scope["method"],
        route=storable(scope.get("path_template", scope["path"])),
        path=storable(scope["path"]),
        status=status,
        correlation_id=str(state.get("correlation_id", "")),
        clinic_id=None if caller is None else caller.clinic_id,
        user_id=None if caller is None else caller.user_id,
        token_id=None if caller is None else caller.token_id,
        role=None if caller is None else caller.role,
        client_ids=clients,
        goal_ids=goals,
    )


def access_logging(app: ASGIApp) -> ASGIApp:
    refuse = unavailable(
        "access_log_unavailable",
        "This read cannot be recorded just now, so it is not answered; send it again shortly.",
    )

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        requested_at = datetime.now(UTC)
        withheld = False

        async def send_recorded(message: Message) -> None:
            nonlocal withheld
            if withheld:
                return
            handler = scope.get("route_handler")
            if (
                message["type"] == "http.response.start"
                and handler is not None
                and handler.opt.get(ACCESS_LOGGED)
            ):
                recorder: AccessRecorder = scope["app"].state.access_recorder
                try:
                    record = _record(scope, requested_at, message["status"])
                    await recorder.submit(record)
                except Exception as error:
                    log.warning("access_record_failed", error=repr(error))
                    if message["status"] < 500:  # a 5xx shows nothing and says what failed
                        withheld = True
                        await refuse(scope, send)
                        return
            await send(message)

        await app(scope, receive, send_recorded)

    return middleware
