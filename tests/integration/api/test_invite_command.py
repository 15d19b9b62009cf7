"""`goals invite`: the operator's way to hand a person a code, which only they redeem."""

import asyncio
from uuid import UUID

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from infra.config import Settings
from services.cli import __main__ as command_line
from tests.integration.api.support import clinic_id_of
from tests.integration.api.world import TOKEN_KEY, Clinic


async def test_the_operator_prints_an_invitation_that_its_holder_redeems(
    api: AsyncTestClient[Litestar],
    clinic: Clinic,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = Settings(database_url=database_url, token_hash_key=TOKEN_KEY, log_format="json")
    monkeypatch.setattr(command_line, "get_settings", lambda: settings)
    clinic_id = await clinic_id_of(api, clinic.admin)
    email = "NORTH.THERAPIST@EXAMPLE.ORG"  # found whatever its case

    # The command runs its own event loop, as it does from a shell.
    code = await _in_thread(["invite", email, "--clinic", str(clinic_id)])
    unknown = await _in_thread(["invite", "nobody@example.org", "--clinic", str(clinic_id)])

    assert code == 0
    assert unknown == 2
    printed = capsys.readouterr()
    assert "no active user" in printed.err
    (invitation,) = [line for line in printed.out.splitlines() if line.startswith("tgi_")]
    redeemed = await api.post("/v1/invitations/redemption", json={"code": invitation})
    assert redeemed.status_code == 201, redeemed.text
    assert UUID(redeemed.json()["user_id"]) == clinic.therapist.id


async def _in_thread(argv: list[str]) -> int:
    return await asyncio.to_thread(command_line.main, argv)
