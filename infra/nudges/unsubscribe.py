"""One-click unsubscribe links (RFC 8058): a token that names the person and carries a keyed
signature, so that a link in an e-mail turns off that person's e-mail, and no other's, without
signing in. The key is derived from `TOKEN_HASH_KEY`, for this use alone."""

import base64
import binascii
import hashlib
import hmac
from uuid import UUID

_SIGNATURE_BYTES = 16
_UUID_BYTES = 16
_PURPOSE = b"therapy-goals unsubscribe e-mail v1"


def _signature(user_id: UUID, key: str) -> bytes:
    derived = hmac.new(key.encode(), _PURPOSE, hashlib.sha256).digest()
    return hmac.new(derived, user_id.bytes, hashlib.sha256).digest()[:_SIGNATURE_BYTES]


def unsubscribe_token(user_id: UUID, key: str) -> str:
    raw = user_id.bytes + _signature(user_id, key)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unsubscriber(token: str, key: str) -> UUID | None:
    """The person the token names, if it is one of ours; None for anything else."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(raw) != _UUID_BYTES + _SIGNATURE_BYTES:
        return None
    user_id = UUID(bytes=raw[:_UUID_BYTES])
    if not hmac.compare_digest(raw[_UUID_BYTES:], _signature(user_id, key)):
        return None
    return user_id
