"""Once SMTP is configured, an invitation's code goes to its user by e-mail, and neither the
admin's answer nor the operator's command shows it; the e-mail's subject and preview say
nothing of the clinic or the person."""

import asyncio
from email.message import EmailMessage
from uuid import UUID

import asyncpg
import pytest
from structlog.testing import capture_logs

from infra.access.clinics import start_clinic
from infra.access.invitation_mail import PREVIEW, SUBJECT
from services.cli import __main__ as command_line
from tests.integration.api.world import TOKEN_KEY
from tests.integration.mail.conftest import Api, Senders
from tests.integration.mail.outbox_rows import outbox, statuses
from tests.integration.mail.smtp_server import SmtpServer, body
from tests.waiting import wait_until

CLINIC = "Northside Eating Disorders Service"
NAME = "Riley Quinn"
EMAIL = "riley.quinn@example.org"


async def _clinic_with_client(api: Api, pool: asyncpg.Pool) -> tuple[UUID, dict[str, str], UUID]:
    async with pool.acquire() as conn, conn.transaction():
        admin, token = await start_clinic(conn, CLINIC, "admin@north.example", TOKEN_KEY)
    headers = {"Authorization": f"Bearer {token.secret}"}
    created = await api.post(
        "/v1/users",
        json={"role": "client", "display_name": NAME, "email": EMAIL},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    return admin.clinic_id, headers, UUID(created.json()["id"])


async def _the_one_email(pool: asyncpg.Pool, smtp: SmtpServer) -> EmailMessage:
    async def sent() -> bool:
        return await statuses(pool) == {"sent": 1}

    assert await wait_until(sent, 15, interval=0.05)
    (message,) = smtp.mailbox.accepted
    return message


def _code_in(message: EmailMessage) -> str:
    text = body(message, "plain")
    (code,) = [line for line in text.splitlines() if line.startswith("tgi_")]
    return code


def _assert_tells_nothing(message: EmailMessage) -> None:
    text = body(message, "plain")
    html = body(message, "html")
    assert message["Subject"] == SUBJECT
    assert text.splitlines()[0] == PREVIEW
    assert f'overflow: hidden;">{PREVIEW}</div>' in html
    headers = " ".join(f"{name}: {value}" for name, value in message.items() if name != "To")
    for told in (SUBJECT, PREVIEW, headers):
        for secret in (CLINIC, "Eating", NAME, "Riley", "tgi_"):
            assert secret not in told


async def test_the_admin_never_sees_the_code_which_reaches_the_user_by_email(
    api: Api, pool: asyncpg.Pool, smtp: SmtpServer, senders: Senders
) -> None:
    _, headers, user_id = await _clinic_with_client(api, pool)

    invited = await api.post(f"/v1/users/{user_id}/invitations", headers=headers)

    assert invited.status_code == 201, invited.text
    assert invited.json()["delivery"] == "email"
    assert "code" not in invited.json()
    await senders.start()
    message = await _the_one_email(pool, smtp)
    assert message["To"] == EMAIL
    _assert_tells_nothing(message)
    code = _code_in(message)
    link = f"https://goals.clinic.example/invitation#code={code}"
    assert link in body(message, "plain")
    assert f'href="{link}"' in body(message, "html")
    (row,) = await outbox(pool)
    assert row["body_text"] is None  # the code does not outlive its delivery
    redeemed = await api.post("/v1/invitations/redemption", json={"code": code})
    assert redeemed.status_code == 201, redeemed.text
    assert UUID(redeemed.json()["user_id"]) == user_id


async def test_an_invitation_whose_request_fails_sends_no_email(
    api: Api, pool: asyncpg.Pool, smtp: SmtpServer
) -> None:
    _, headers, user_id = await _clinic_with_client(api, pool)
    await api.post(f"/v1/users/{user_id}/deactivation", headers=headers)

    refused = await api.post(f"/v1/users/{user_id}/invitations", headers=headers)

    assert refused.status_code == 409
    assert await outbox(pool) == []


async def test_the_operators_command_mails_the_code_and_does_not_print_it(
    api: Api,
    pool: asyncpg.Pool,
    smtp: SmtpServer,
    senders: Senders,
    capsys: pytest.CaptureFixture[str],
) -> None:
    clinic_id, _, user_id = await _clinic_with_client(api, pool)

    exit_code = await asyncio.to_thread(
        command_line.main, ["invite", EMAIL.upper(), "--clinic", str(clinic_id)]
    )

    assert exit_code == 0
    printed = capsys.readouterr().out
    assert "on its way by e-mail" in printed
    assert "tgi_" not in printed
    await senders.start()
    message = await _the_one_email(pool, smtp)
    assert message["To"] == EMAIL
    _assert_tells_nothing(message)
    redeemed = await api.post("/v1/invitations/redemption", json={"code": _code_in(message)})
    assert redeemed.status_code == 201, redeemed.text
    assert UUID(redeemed.json()["user_id"]) == user_id


async def test_an_address_the_directory_took_but_mail_cannot_use_is_refused_without_naming_it(
    api: Api, pool: asyncpg.Pool, smtp: SmtpServer
) -> None:
    _, headers, _ = await _clinic_with_client(api, pool)
    unusable = "riley,quinn@example.org"
    created = await api.post(
        "/v1/users",
        json={"role": "client", "display_name": NAME, "email": unusable},
        headers=headers,
    )
    assert created.status_code == 201, created.text

    with capture_logs() as logs:
        refused = await api.post(f"/v1/users/{created.json()['id']}/invitations", headers=headers)

    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "email_undeliverable"
    assert "riley" not in refused.text
    assert "riley" not in repr(logs)
    assert await outbox(pool) == []
    assert await pool.fetchval("SELECT count(*) FROM invitations") == 0
