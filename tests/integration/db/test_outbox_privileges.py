"""The service may queue e-mail and record how its sending went, and nothing more: it cannot
send a queued e-mail elsewhere, under another subject or key, nor make one vanish."""

import pytest

from infra.db.connection import Connection
from tests.integration.db.privileges import assert_refused

REFUSED = [
    "UPDATE email_outbox SET to_address = 'someone@elsewhere.example'",
    "UPDATE email_outbox SET subject = 'rewritten'",
    'UPDATE email_outbox SET headers = \'{"Bcc": "someone@elsewhere.example"}\'',
    "UPDATE email_outbox SET message_id = '<other@example.org>'",
    "UPDATE email_outbox SET dedup_key = 'other'",
    "UPDATE email_outbox SET clinic_id = gen_random_uuid()",
    "UPDATE email_outbox SET created_at = now()",
    "DELETE FROM email_outbox",
    "TRUNCATE email_outbox",
]


@pytest.mark.parametrize("statement", REFUSED)
async def test_the_service_cannot_redirect_or_drop_queued_email(
    module_conn: Connection, statement: str
) -> None:
    await assert_refused(module_conn, statement)
