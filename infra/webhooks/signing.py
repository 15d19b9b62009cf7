"""Standard Webhooks signatures, made by the reference `standardwebhooks` package."""

import base64
import secrets
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"  # noqa: S105 - the standard prefix, not a secret
SECRET_BYTES = 32


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signed_headers(
    message_id: str, body: bytes, signing_secrets: list[str], now: datetime
) -> dict[str, str]:
    """`webhook-id`, `webhook-timestamp` and `webhook-signature`, with one signature per secret
    (two while a rotated secret still signs), over exactly `body`."""
    moment = now.astimezone(UTC).replace(microsecond=0)
    text = body.decode()
    signatures = [Webhook(secret).sign(message_id, moment, text) for secret in signing_secrets]
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": " ".join(signatures),
        "content-type": "application/json",
    }
