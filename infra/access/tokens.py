"""Opaque bearer tokens: 256 random bits, stored only as a keyed hash."""

import hashlib
import hmac
import secrets

TOKEN_PREFIX = "tg_"  # noqa: S105 - a prefix, not a secret


def new_token_secret() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(secret: str, key: str) -> bytes:
    return hmac.new(key.encode(), secret.encode(), hashlib.sha256).digest()
