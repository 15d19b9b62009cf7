"""The auditor's check that their clinic's log is whole: its hash chains recomputed and every
signed checkpoint checked (infra/audit/verification.py)."""

import asyncpg
from litestar import Request, get

from domain.access.policy import Caller
from infra.audit.signing import verifying_key
from infra.audit.verification import Verification, verify_log
from infra.config import Settings
from services.api.deps import Authenticated
from services.api.errors import forbidden, problem_responses


@get(
    "/v1/audit/verification",
    summary="Recompute the hash chains of the auditor's clinic and check the signed checkpoints",
    description=(
        "Every event of the clinic is hashed again from its fields and checked against its"
        " stored hash, the hash of the event before it in its goal (or person) and its stream's"
        " head; every signed checkpoint of the log is checked against the operator's public key"
        " and the events before its fence. `first_break` names the first link that does not"
        " hold, by its position in the log (`content_changed`: a field edited or two rows"
        " swapped; `version_missing`: a row removed; `link_broken`: a row replaced or inserted"
        " with a recomputed hash; `head_mismatch`: the stream's end removed or added to);"
        " `first_checkpoint_problem` the first checkpoint that does not verify. Reads the whole"
        " clinic from one snapshot: it takes seconds on a large log."
    ),
    responses=problem_responses(401, 403),
)
async def audit_verification(request: Request, caller: Authenticated) -> Verification:
    if caller.role != "auditor":
        raise forbidden()
    return await verify_clinic(request, caller)


async def verify_clinic(request: Request, caller: Caller) -> Verification:
    """The caller's clinic's log verified, as the app's settings say (the web's auditor page
    asks the same)."""
    settings: Settings = request.app.state.settings
    pool: asyncpg.Pool = request.app.state.pool
    return await verify_log(
        pool,
        caller.clinic_id,
        verifying_key(settings),
        acquire_timeout=settings.database_acquire_timeout_seconds,
    )


ROUTES = [audit_verification]
