"""The operator's Ed25519 key that signs the log's checkpoints, and the public key that checks
them (docs/configuration.md, `AUDIT_SIGNING_KEY_FILE`, `AUDIT_VERIFY_KEY_FILE`)."""

from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)

from infra.config import Settings


class SigningKeyError(Exception):
    """A key file that is missing, unreadable or not an Ed25519 key in PEM."""


def raw_public_key(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def signing_key(settings: Settings) -> Ed25519PrivateKey | None:
    """The key checkpoints are signed with; None when `AUDIT_SIGNING_KEY_FILE` is unset."""
    if not settings.audit_signing_key_file:
        return None
    key = load_pem_private_key(_read(settings.audit_signing_key_file), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"{settings.audit_signing_key_file} holds no Ed25519 private key")
    return key


def verifying_key(settings: Settings) -> Ed25519PublicKey | None:
    """The key checkpoints are checked with: `AUDIT_VERIFY_KEY_FILE`, else the signing key's
    public half; None when neither is set."""
    if settings.audit_verify_key_file:
        key = load_pem_public_key(_read(settings.audit_verify_key_file))
        if not isinstance(key, Ed25519PublicKey):
            raise SigningKeyError(f"{settings.audit_verify_key_file} holds no Ed25519 public key")
        return key
    private = signing_key(settings)
    return None if private is None else private.public_key()


def signature_holds(key: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise SigningKeyError(f"cannot read the key file {path}: {error}") from None
