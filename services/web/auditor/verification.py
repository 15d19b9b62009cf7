"""The verification status of the clinic's log, on the auditor's page: its hash chains
recomputed and its signed checkpoints checked, by the function `GET /v1/audit/verification`
calls, when the auditor asks (a large log takes seconds)."""

import msgspec

from infra.audit.verification import Verification

BREAK_WORDS = {
    "content_changed": "an event's fields were changed, or two events swapped",
    "version_missing": "an event was removed",
    "link_broken": "an event was replaced or inserted",
    "head_mismatch": "a stream's last events were removed or added to",
}


class Status(msgspec.Struct, frozen=True):
    """The verification in the words the auditor's page prints."""

    intact: bool
    summary: str
    details: list[str]


def status_of(found: Verification) -> Status:
    signatures = (
        "their signatures checked"
        if found.signatures_checked
        else "their signatures not checked (no public key is configured)"
    )
    checked = (
        f"{found.events} events' hash chains recomputed; "
        f"{found.checkpoints} signed checkpoints checked, {signatures}."
    )
    if found.intact:
        whole = (
            []
            if found.whole_at is None
            else [f"Whole as of the last checkpoint, {found.whole_at:%Y-%m-%d %H:%M} UTC."]
        )
        return Status(True, "The log is whole: no link is broken.", [checked, *whole])
    details = [checked]
    if found.first_break is not None:
        broken = found.first_break
        words = BREAK_WORDS.get(broken.kind, broken.kind)
        details.append(
            f"The first broken link is at position {broken.position} "
            f"({broken.stream_id}, version {broken.stream_version}): {words}. "
            f"{found.breaks} broken in all."
        )
    if found.first_checkpoint_problem is not None:
        problem = found.first_checkpoint_problem
        details.append(
            f"Checkpoint {problem.sequence} does not verify: {problem.detail}. "
            f"{found.checkpoint_problems} in all."
        )
    return Status(False, "The log is not whole.", details)
