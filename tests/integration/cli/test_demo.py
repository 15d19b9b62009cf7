"""`goals demo` run twice: one demo clinic, and new tokens for its people the second time."""

import os
import subprocess
import sys
from uuid import UUID

from infra.access.queries import caller_for_token
from infra.access.tokens import hash_token
from infra.db.connection import Connection

_KEY = "demo-test-token-key"


def _demo(database_url: str) -> list[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "TOKEN_HASH_KEY": _KEY}
    finished = subprocess.run(
        [sys.executable, "-m", "services.cli", "demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    return finished.stdout.splitlines()


def _people(lines: list[str]) -> dict[UUID, str]:
    """Each printed person's id and token: the last two words of their line, up to the blank
    line before the sign-in links."""
    return {UUID(line.split()[-2]): line.split()[-1] for line in lines[2 : lines.index("")]}


def _sign_in_links(lines: list[str]) -> list[str]:
    return [line.split()[-1] for line in lines[lines.index("") + 3 :]]


async def test_a_second_demo_reuses_the_clinic_with_new_tokens(
    database_url: str, conn: Connection
) -> None:
    first = _demo(database_url)
    second = _demo(database_url)

    assert first[0].startswith("A demo clinic is ready")
    assert second[0].startswith("The demo clinic is already there")
    assert await conn.fetchval("SELECT count(*) FROM clinics") == 1
    before, after = _people(first), _people(second)
    assert set(after) == set(before)
    assert len(after) == 6
    links = _sign_in_links(second)
    assert len(links) == 6
    assert all(link.startswith("http://127.0.0.1:8000/sign-in/link?code=tgl_") for link in links)
    for user_id, token in after.items():
        assert token != before[user_id]
        caller = await caller_for_token(conn, hash_token(token, _KEY))
        assert caller is not None
        assert caller.user_id == user_id
