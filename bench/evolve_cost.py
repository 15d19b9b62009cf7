"""The pure fold of one check-in onto goals of growing history: CPU time per check-in, and the
size of what a process keeps of each goal.

    uv run python -m bench.evolve_cost [--lengths 10,10000,100000] [--repeat 20000]

For each length n, a goal is folded from its first event and n check-ins (its state,
domain/goals/state.py, and its detail, domain/goals/view.py, as the API's fold cache keeps
them); then the next check-in is folded onto it `--repeat` times, and the best of five runs is
reported in microseconds per check-in, with the size of the state and the detail encoded as
MessagePack (as a snapshot keeps them). No I/O: this measures the domain's own cost alone.
"""

import argparse
import sys
import timeit
from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import msgspec

from domain.goals.events import GoalEvent, GoalSet, ProgressRecorded
from domain.goals.state import Goal, evolve, fold
from domain.goals.terms import GoalTerms, Measure
from domain.goals.view import GoalDetail, advance, goal_detail

_TERMS = GoalTerms(
    statement="Walk for 30 minutes",
    life_area="physical_health",
    values=("health",),
    measure=Measure("count", 3, "walks", "per_week"),
    cue=None,
    start_date=date(2026, 1, 1),
    due_date=date(2026, 12, 31),
    priority="medium",
    time_zone="UTC",
)
_AT = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def folded(goal_id: UUID, check_ins: int) -> tuple[Goal, GoalDetail]:
    events: list[GoalEvent] = [
        GoalSet(goal_id, uuid4(), _TERMS),
        *(
            ProgressRecorded(goal_id, uuid4(), 1.0, _AT + timedelta(minutes=n))
            for n in range(check_ins)
        ),
    ]
    state, detail = fold(events), goal_detail(events)
    assert isinstance(state, Goal)
    assert detail is not None
    return state, detail


def per_check_in_us(check_ins: int, repeat: int) -> tuple[float, float, int, int]:
    goal_id = uuid4()
    state, detail = folded(goal_id, check_ins)
    event = ProgressRecorded(goal_id, uuid4(), 1.0, _AT)
    evolve_s = min(timeit.repeat(lambda: evolve(state, event), number=repeat, repeat=5))
    advance_s = min(timeit.repeat(lambda: advance(detail, [event]), number=repeat, repeat=5))
    encode = msgspec.msgpack.encode
    return (
        1e6 * evolve_s / repeat,
        1e6 * advance_s / repeat,
        len(encode(state)),
        len(encode(detail)),
    )


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.evolve_cost", description=__doc__)
    parser.add_argument("--lengths", default="10,10000,100000", help="check-ins per goal")
    parser.add_argument("--repeat", type=int, default=20_000, help="check-ins folded per run")
    arguments = parser.parse_args(argv)
    lengths = [int(text) for text in arguments.lengths.split(",")]
    print(f"python {sys.version.split()[0]}, best of 5 runs of {arguments.repeat} check-ins")
    print(f"{'check-ins':>10} {'evolve µs':>10} {'detail µs':>10} {'state B':>8} {'detail B':>9}")
    for length in lengths:
        evolve_us, advance_us, state_bytes, detail_bytes = per_check_in_us(length, arguments.repeat)
        print(
            f"{length:>10} {evolve_us:>10.2f} {advance_us:>10.2f} "
            f"{state_bytes:>8} {detail_bytes:>9}"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
