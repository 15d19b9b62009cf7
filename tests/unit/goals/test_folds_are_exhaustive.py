"""A kind of goal event that a fold forgets is a type error, not a failure at run time.

Each fold over goal events ends in `assert_never`. To show that mypy holds them to it, this adds a
kind of event to `GoalEvent` in a copy of the domain and type-checks the copy as the project does:
mypy must name every fold, and find nothing else wrong.
"""

import ast
import shutil
from pathlib import Path

import pytest
from mypy import api

PROJECT = Path(__file__).resolve().parents[3]

_FORGOTTEN = """
class GoalArchived(msgspec.Struct, frozen=True, gc=False, tag="goal_archived"):
    goal_id: UUID


"""

FOLDS = {
    ("goals/state.py", "_evolve_goal"),
    ("goals/view.py", "_next"),
    ("goals/summary.py", "_changed"),
    ("goals/summary.py", "check_in_change"),
    ("goals/record.py", "_changes_status"),
}


def _with_a_forgotten_kind(events_source: str) -> str:
    """`events_source` with `GoalArchived` defined and added to the `GoalEvent` union."""
    (union,) = (
        node
        for node in ast.parse(events_source).body
        if isinstance(node, ast.Assign)
        and [ast.unparse(target) for target in node.targets] == ["GoalEvent"]
    )
    lines = events_source.splitlines(keepends=True)
    before, after = lines[: union.lineno - 1], lines[union.end_lineno or union.lineno :]
    widened = f"GoalEvent = ({ast.unparse(union.value)}) | GoalArchived\n"
    return "".join([*before, _FORGOTTEN, widened, *after])


def _function_at(source: str, line: int) -> str:
    """The name of the innermost function around `line`."""
    around = [
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef)
        and node.lineno <= line <= (node.end_lineno or node.lineno)
    ]
    return max(around, key=lambda node: node.lineno).name if around else "<module>"


def test_mypy_names_every_fold_that_lacks_a_new_kind_of_event(
    pytestconfig: pytest.Config, tmp_path: Path
) -> None:
    # The copy stays at one path from run to run, as mypy's cache does: mypy then checks again
    # only what changed, and reports what it replays from the cache at the copy's path.
    cache = getattr(pytestconfig, "cache", None)  # None: run with the cache provider off
    workspace = tmp_path if cache is None else cache.mkdir("exhaustive-folds")
    domain = workspace / "domain"
    shutil.rmtree(domain, ignore_errors=True)
    shutil.copytree(PROJECT / "domain", domain, ignore=shutil.ignore_patterns("__pycache__"))
    events = domain / "goals" / "events.py"
    events.write_text(_with_a_forgotten_kind(events.read_text()))

    report, errors, status = api.run(
        [
            "--config-file",
            str(PROJECT / "pyproject.toml"),
            "--cache-dir",
            str(workspace / "mypy-cache"),
            "--no-error-summary",
            "--show-absolute-path",
            str(domain),
        ]
    )

    assert (status, errors) == (1, ""), report
    found = set()
    for line in report.splitlines():
        path, number, message = line.split(":", 2)
        assert '"assert_never" has incompatible type "GoalArchived"' in message, line
        relative = Path(path).relative_to(domain).as_posix()
        found.add((relative, _function_at((domain / relative).read_text(), int(number))))
    assert found == FOLDS
