"""`goals audit checkpoint`, `goals audit checkpoints` and `goals audit verify`: a checkpoint
signed with the operator's key file, exported so that it verifies on its own, and a verification
whose exit status and report say whether the log is whole and where it broke."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from domain.audit.checkpoints import CheckpointFacts, checkpoint_message
from infra.db.connection import Connection
from tests.integration.audit.chain_log import position_of, tamper, write_log


def _goals(
    database_url: str, *arguments: str, key_file: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    env.pop("AUDIT_SIGNING_KEY_FILE", None)
    if key_file is not None:
        env["AUDIT_SIGNING_KEY_FILE"] = str(key_file)
    return subprocess.run(  # noqa: S603 - our own interpreter and command line
        [sys.executable, "-m", "services.cli", "audit", *arguments],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def key_file(tmp_path: Path, key: Ed25519PrivateKey) -> Path:
    path = tmp_path / "audit-signing.pem"
    path.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    return path


async def test_a_checkpoint_is_signed_exported_and_verified(
    database_url: str,
    conn: Connection,
    admin_conn: Connection,
    key: Ed25519PrivateKey,
    key_file: Path,
    tmp_path: Path,
) -> None:
    await write_log(conn)

    made = _goals(database_url, "checkpoint", key_file=key_file)
    assert made.returncode == 0, made.stderr
    checkpoint = json.loads(made.stdout)
    assert (checkpoint["sequence"], checkpoint["events"]) == (1, 13)

    saved = tmp_path / "checkpoints.ndjson"
    listed = _goals(database_url, "checkpoints", "--output", str(saved))
    assert listed.returncode == 0, listed.stderr
    (kept,) = [json.loads(line) for line in saved.read_text().splitlines()]
    assert kept == checkpoint
    # What was exported is enough, with the public key, to check the signature.
    facts = CheckpointFacts(
        sequence=kept["sequence"],
        fence=kept["fence"],
        events=kept["events"],
        last_position=kept["last_position"],
        previous_digest=bytes.fromhex(kept["previous_digest"]),
        digest=bytes.fromhex(kept["digest"]),
        taken_at_us=kept["taken_at_us"],
    )
    key.public_key().verify(bytes.fromhex(kept["signature"]), checkpoint_message(facts))

    whole = _goals(database_url, "verify", key_file=key_file)
    assert whole.returncode == 0, whole.stderr
    assert json.loads(whole.stdout)["intact"] is True
    assert "verifying [" in whole.stderr

    deleted = await position_of(conn, "stream-a", 2)
    await tamper(admin_conn, f"DELETE FROM events WHERE position = {deleted}")
    broken = _goals(database_url, "verify", "--clinic", "00000000-0000-0000-0000-000000000002")
    assert broken.returncode == 1
    report = json.loads(broken.stdout)
    assert report["first_break"]["kind"] == "version_missing"
    assert report["first_break"]["position"] == await position_of(conn, "stream-a", 3)
    assert report["first_checkpoint_problem"]["kind"] == "events_changed"
    assert "signatures were not checked" in broken.stderr


async def test_a_checkpoint_needs_the_signing_key(database_url: str) -> None:
    refused = _goals(database_url, "checkpoint")
    assert refused.returncode == 2
    assert "AUDIT_SIGNING_KEY_FILE" in refused.stderr
