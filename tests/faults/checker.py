"""The history check: what the clients were told against what the log and the projection hold.

Each check is a plain function that returns what it found wrong, one sentence per breach, each
naming the operation, goal, version or row at fault; an empty list means the check held. They
read only the database and the history, so a short run, a long run or a test can use them.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass

from infra.db.connection import Connection
from tests.faults.history import History, Operation, Outcome
from tests.faults.recount import recount_differences
from tests.integration.worker.projection import feed_head, projection_gaps

OPERATION_PREFIX = "op-"
_SHOWN = 12  # breaches of one kind listed in full; the rest are counted


@dataclass(frozen=True)
class Logged:
    """One event of the log, as the checks need it."""

    stream_id: str
    stream_version: int
    position: int
    event_type: str
    correlation_id: str
    check_in_id: str | None


async def read_log(conn: Connection) -> list[Logged]:
    rows = await conn.fetch(
        """
        SELECT stream_id, stream_version, position, event_type,
               metadata ->> 'correlation_id' AS correlation_id,
               data ->> 'check_in_id' AS check_in_id
        FROM events ORDER BY stream_id, stream_version
        """
    )
    return [Logged(**dict(row)) for row in rows]


# Goal streams with events at or below a position that their summary does not hold yet. Goals
# stalled on a dead letter are left out: they never catch up, and are breaches of their own.
_BEHIND = """
SELECT count(*) FROM (
    SELECT stream_id, max(stream_version) AS version FROM events
    WHERE position <= $1 AND stream_id LIKE 'goal-%' GROUP BY stream_id
) e
LEFT JOIN goal_summaries s ON s.goal_id = substr(e.stream_id, 6)::uuid
WHERE (s.version IS NULL OR s.version < e.version) AND s.stalled_at_version IS NULL
"""


async def goals_behind(conn: Connection, up_to: int) -> int:
    """Goals, not stalled, whose summary lacks some event at or below position `up_to`."""
    return int(await conn.fetchval(_BEHIND, up_to))


async def relay_at_head(conn: Connection) -> bool:
    head = await feed_head(conn)
    row = await conn.fetchrow(
        "SELECT transaction_id, position FROM consumer_checkpoints WHERE consumer = 'relay'"
    )
    return row is not None and (int(str(row[0])), row[1]) == (head.transaction_id, head.position)


def _listed(breaches: list[str], what: str) -> list[str]:
    if len(breaches) <= _SHOWN:
        return breaches
    return [*breaches[:_SHOWN], f"... and {len(breaches) - _SHOWN} more {what}"]


def check_writes(history: History, log: list[Logged]) -> list[str]:
    """Acknowledged writes are in the log exactly once, where the answer said; refused writes
    are not there at all; writes of unknown outcome are there at most once; and every event
    that a client's request wrote belongs to an attempt of the history."""
    by_attempt: dict[str, list[Logged]] = defaultdict(list)
    for event in log:
        if event.correlation_id.startswith(OPERATION_PREFIX):
            by_attempt[event.correlation_id].append(event)
    check_ins: Counter[tuple[str, str | None]] = Counter(
        (event.stream_id, event.check_in_id) for event in log if event.check_in_id is not None
    )
    breaches: dict[str, list[str]] = defaultdict(list)
    known: set[str] = set()
    for op in history.operations:
        known |= op.request_ids()
        for kind, breach in _breaches_of(op, by_attempt, check_ins):
            breaches[kind].append(breach)
    strays = [
        f"{events[0].stream_id} v{events[0].stream_version}: written by request {request_id}, "
        "which no client sent"
        for request_id, events in by_attempt.items()
        if request_id not in known
    ]
    found = [line for kind in sorted(breaches) for line in _listed(breaches[kind], kind)]
    return found + _listed(strays, "stray events")


def _breaches_of(
    op: Operation, by_attempt: dict[str, list[Logged]], check_ins: Counter[tuple[str, str | None]]
) -> list[tuple[str, str]]:
    written = [event for rid in sorted(op.request_ids()) for event in by_attempt.get(rid, [])]
    where = ", ".join(f"v{event.stream_version} @{event.position}" for event in written)
    stream = f"goal-{op.goal_id}"
    found = []
    if op.check_in_id is not None and check_ins[(stream, str(op.check_in_id))] > 1:
        found.append(
            (
                "duplicated check-ins",
                f"check-in {op.check_in_id} logged "
                f"{check_ins[(stream, str(op.check_in_id))]} times: {op.describe()}",
            )
        )
    outcome = op.outcome
    if outcome is Outcome.ACKNOWLEDGED:
        answer = op.acknowledged
        assert answer is not None
        if len(written) != 1:
            kind = "acknowledged writes missing" if not written else "acknowledged writes repeated"
            found.append(
                (
                    kind,
                    f"acknowledged, yet in the log {len(written)} times "
                    f"({where or 'nowhere'}): {op.describe()}",
                )
            )
        elif (written[0].stream_version, written[0].position) != (answer.version, answer.position):
            found.append(
                (
                    "acknowledged writes misplaced",
                    f"answered v{answer.version} "
                    f"@{answer.position}, logged {where}: {op.describe()}",
                )
            )
    elif outcome is Outcome.REFUSED and written:
        found.append(
            ("refused writes present", f"refused, yet in the log at {where}: {op.describe()}")
        )
    elif outcome is Outcome.UNKNOWN and len(written) > 1:
        found.append(
            (
                "unknown writes repeated",
                f"outcome unknown, and in the log {len(written)} times ({where}): {op.describe()}",
            )
        )
    return found


async def check_streams(conn: Connection, log: list[Logged]) -> list[str]:
    """Every stream's versions run 1, 2, 3... without a gap or a repeat, to its head."""
    versions: dict[str, list[int]] = defaultdict(list)
    for event in log:
        versions[event.stream_id].append(event.stream_version)
    heads = {row["stream_id"]: row["version"] for row in await conn.fetch("SELECT * FROM streams")}
    breaches = []
    for stream_id, found in versions.items():
        if found != list(range(1, len(found) + 1)):
            breaches.append(f"{stream_id}: versions {_ranges(found)} are not 1..{len(found)}")
        if heads.get(stream_id) != found[-1]:
            breaches.append(
                f"{stream_id}: head says v{heads.get(stream_id)}, log ends at v{found[-1]}"
            )
    breaches += [
        f"{stream_id}: head v{version}, and no event"
        for stream_id, version in heads.items()
        if stream_id not in versions
    ]
    return _listed(breaches, "streams")


def _ranges(versions: list[int]) -> str:
    shown = ", ".join(str(version) for version in versions[:20])
    return shown + (", ..." if len(versions) > 20 else "")


async def check_checkpoints(conn: Connection) -> list[str]:
    """Every consumer of the feed has read to its head."""
    head = await feed_head(conn)
    return [
        f"consumer {row['consumer']} stands at ({row['transaction_id']}, {row['position']}), "
        f"the feed's head is ({head.transaction_id}, {head.position})"
        for row in await conn.fetch("SELECT * FROM consumer_checkpoints ORDER BY consumer")
        if (int(str(row["transaction_id"])), row["position"])
        != (head.transaction_id, head.position)
    ]


async def check_dead_letters(conn: Connection) -> list[str]:
    rows = await conn.fetch(
        "SELECT goal_id, position, error FROM projection_dead_letters ORDER BY position"
    )
    return _listed(
        [f"dead letter: goal {row['goal_id']} @{row['position']}: {row['error']}" for row in rows],
        "dead letters",
    )


async def check_projection(conn: Connection) -> list[str]:
    """The projection equals a recount: each goal's stream folded in version order."""
    return await projection_gaps(conn) + _listed(await recount_differences(conn), "goals")
