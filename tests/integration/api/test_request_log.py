"""One JSON log line per request: what was asked, by whom, how it ended and how long it took,
and never what a person wrote."""

import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any, TextIO, cast

import pytest
import structlog
from litestar import Litestar
from litestar.testing import AsyncTestClient

from infra.config import Settings
from infra.logging import configure_logging
from services.api import observability
from tests.integration.api.support import set_goal
from tests.integration.api.world import Clinic, goal_body

_STATEMENT = "Phone my sister every Sunday evening"
_NOTE = "Talked about our mother's garden"
_PROJECT_ROOT = Path(__file__).resolve().parents[3]


class _CurrentStderr:
    """Writes to whatever sys.stderr is at the moment of writing."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


@pytest.fixture
def request_log(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sends the request log to the stderr that capsys captures during the test.

    structlog keeps a module's logger, with the stream it writes to, from its first use: the
    stream of whichever test came first, which capsys does not see (or which is closed by
    now). The replacement still renders through the processors the app configured.
    """
    logger = structlog.wrap_logger(structlog.PrintLogger(file=cast(TextIO, _CurrentStderr())))
    monkeypatch.setattr(observability, "log", logger)


def _request_lines(captured: str) -> list[dict[str, Any]]:
    lines = []
    for line in captured.splitlines():
        if not line.startswith("{"):
            continue
        entry: dict[str, Any] = json.loads(line)
        if entry.get("event") == "request":
            lines.append(entry)
    return lines


async def test_each_request_logs_one_line_without_what_people_wrote(
    api: AsyncTestClient[Litestar],
    clinic: Clinic,
    request_log: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    capsys.readouterr()
    goal_id = (await set_goal(api, clinic, statement=_STATEMENT))["goal_id"]
    checked = await api.post(
        f"/v1/goals/{goal_id}/check-ins",
        json={"amount": 1, "note": _NOTE},
        headers={**clinic.client.headers, "X-Request-ID": "abc-123"},
    )
    assert checked.status_code == 200, checked.text
    refused = await api.post(
        "/v1/goals",
        json=goal_body(
            client_id=str(clinic.client.id), statement=_STATEMENT, due_date="2000-01-01"
        ),
        headers=clinic.therapist.headers,
    )
    assert refused.status_code == 422, refused.text
    anonymous = await api.get(f"/v1/goals/{goal_id}")
    assert anonymous.status_code == 401

    captured = capsys.readouterr()
    lines = _request_lines(captured.err)

    assert [(line["method"], line["route"], line["status"]) for line in lines] == [
        ("POST", "/v1/goals", 201),
        ("POST", "/v1/goals/{goal_id}/check-ins", 200),
        ("POST", "/v1/goals", 422),
        ("GET", "/v1/goals/{goal_id}", 401),
    ]
    assert [line["actor_id"] for line in lines] == [
        str(clinic.therapist.id),
        str(clinic.client.id),
        str(clinic.therapist.id),
        None,
    ]
    assert lines[1]["correlation_id"] == "abc-123"
    for line, response in zip(lines, (None, checked, refused, anonymous), strict=True):
        assert isinstance(line["duration_ms"], float | int)
        assert 0 <= line["duration_ms"] < 10_000
        assert line["level"] == "info"
        assert line["timestamp"]
        if response is not None:
            assert line["correlation_id"] == response.headers["x-request-id"]
    everything = captured.err + captured.out
    assert _STATEMENT not in everything
    assert _NOTE not in everything
    assert goal_id not in json.dumps(lines)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/v1/nowhere/{id}", 404), ("PUT", "/v1/users/{id}/tokens", 405)],
    ids=["no such path", "no such method"],
)
async def test_a_request_no_route_answers_is_logged_as_unmatched(
    api: AsyncTestClient[Litestar],
    clinic: Clinic,
    request_log: None,
    capsys: pytest.CaptureFixture[str],
    method: str,
    path: str,
    status: int,
) -> None:
    capsys.readouterr()

    response = await api.request(
        method,
        path.format(id=clinic.client.id),
        headers={**clinic.client.headers, "X-Request-ID": "lost-client-1"},
    )

    assert response.status_code == status
    assert response.headers.get("x-request-id") == "lost-client-1"
    lines = _request_lines(capsys.readouterr().err)
    assert [(line["method"], line["route"], line["status"]) for line in lines] == [
        (method, "unmatched", status)
    ]
    assert lines[0]["correlation_id"] == "lost-client-1"


def test_the_configured_logging_writes_json_lines_to_stderr() -> None:
    """What the replacement logger above relies on: the app's own setup renders JSON to stderr."""
    program = (
        "import structlog\n"
        "from infra.config import Settings\n"
        "from infra.logging import configure_logging\n"
        "configure_logging(Settings(log_format='json'))\n"
        "structlog.get_logger('api.request').info('request', route='/v1/goals', status=201)\n"
    )
    finished = subprocess.run(  # noqa: S603 - this interpreter, running a constant program
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=_PROJECT_ROOT,
    )

    assert finished.stdout == ""
    [line] = finished.stderr.splitlines()
    entry = json.loads(line)
    assert (entry["event"], entry["route"], entry["status"]) == ("request", "/v1/goals", 201)
    assert entry["level"] == "info"


def test_the_server_adds_no_access_line_of_its_own() -> None:
    """uvicorn writes its access line only where its access logger finds a handler."""
    configure_logging(Settings(log_format="json"))

    assert not logging.getLogger("uvicorn.access").hasHandlers()
    assert logging.getLogger("uvicorn.error").hasHandlers()
