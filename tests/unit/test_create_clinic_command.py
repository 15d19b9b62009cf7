"""`goals create-clinic` refuses what the API refuses, in words, before it connects."""

import pytest

from infra.config import Settings
from services.cli import __main__ as command_line
from services.cli.__main__ import main, parser


@pytest.mark.parametrize(
    ("name", "email", "said"),
    [
        ("", "admin@north.example", "clinic's name"),
        ("   ", "admin@north.example", "clinic's name"),
        ("N" * 201, "admin@north.example", "clinic's name"),
        ("North", "not-an-email", "not an email address"),
        ("North", "admin @north.example", "not an email address"),
    ],
)
def test_a_clinic_the_api_would_refuse_is_refused_with_a_message(
    name: str,
    email: str,
    said: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Nothing listens at this address, and no server may be started in its place: a refusal
    # must come before any connection.
    unreachable = Settings(
        database_url="postgresql://nobody@127.0.0.1:9/nowhere", local_servers="off"
    )
    monkeypatch.setattr(command_line, "get_settings", lambda: unreachable)

    code = main(["create-clinic", name, "--admin-email", email])

    assert code == 2
    err = capsys.readouterr().err
    assert said in err
    assert "Traceback" not in err


def test_every_clinic_names_its_own_admin(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        parser().parse_args(["create-clinic", "North"])

    assert exited.value.code == 2
    assert "--admin-email" in capsys.readouterr().err
