"""GET /v1/audit/verification: the auditor's clinic's chains recomputed and the signed
checkpoints checked, over HTTP; every other role is refused."""

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)
from litestar import Litestar
from litestar.testing import AsyncTestClient
from msgspec.structs import replace

from infra.audit.checkpoints import make_checkpoint
from services.api.app import create_app
from tests.integration.api.support import set_goal
from tests.integration.api.world import Clinic, app_settings, build_clinic
from tests.integration.audit.chain_log import tamper

Api = AsyncTestClient[Litestar]
ROLES = ["admin", "therapist", "client", "supporter", "auditor", "integration"]


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
async def api(database_url: str, tmp_path: Path, key: Ed25519PrivateKey) -> AsyncIterator[Api]:
    key_file = tmp_path / "audit-signing.pem"
    key_file.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    settings = replace(app_settings(database_url), audit_signing_key_file=str(key_file))
    async with AsyncTestClient(create_app(settings)) as client:
        yield client


async def test_only_the_auditor_verifies(api: Api, clinic: Clinic) -> None:
    for role in ROLES:
        answer = await api.get("/v1/audit/verification", headers=getattr(clinic, role).headers)
        assert answer.status_code == (200 if role == "auditor" else 403), (role, answer.text)
    assert (await api.get("/v1/audit/verification")).status_code == 401


async def test_the_auditor_sees_their_clinics_first_broken_link(
    api: Api,
    clinic: Clinic,
    pool: asyncpg.Pool,
    admin_conn: asyncpg.Connection,
    key: Ed25519PrivateKey,
) -> None:
    other = await build_clinic(api, pool, "south")
    goal = await set_goal(api, clinic)
    await set_goal(api, other)
    async with pool.acquire() as conn:
        assert await make_checkpoint(conn, key) is not None

    clean = await api.get("/v1/audit/verification", headers=clinic.auditor.headers)
    assert clean.status_code == 200, clean.text
    assert clean.json()["intact"] is True, clean.text
    assert clean.json()["signatures_checked"] is True
    assert clean.json()["checkpoints"] == 1

    edited = await admin_conn.fetchval(
        "SELECT position FROM events WHERE stream_id = $1", f"goal-{goal['goal_id']}"
    )
    await tamper(
        admin_conn,
        "UPDATE events SET data = jsonb_set(data, '{title}', '\"Another goal\"') "
        f"WHERE position = {edited}",
    )

    mine = (await api.get("/v1/audit/verification", headers=clinic.auditor.headers)).json()
    assert mine["intact"] is False
    assert mine["first_break"]["position"] == edited
    assert mine["first_break"]["kind"] == "content_changed"
    # The stored hashes, which the checkpoint signed, are as they were: the chain finds it.
    assert mine["first_checkpoint_problem"] is None
    theirs = (await api.get("/v1/audit/verification", headers=other.auditor.headers)).json()
    assert theirs["intact"] is True
    assert theirs["events"] > 0
