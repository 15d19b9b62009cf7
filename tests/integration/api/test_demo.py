"""`goals demo` takes the path a real clinic takes: each person redeems an invitation for a
token of their own, and the tokens it prints work."""

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from services.cli.demo import seed_demo
from tests.integration.api.world import TOKEN_KEY


async def test_the_demos_people_hold_tokens_they_redeemed_themselves(
    api: AsyncTestClient[Litestar], pool: asyncpg.Pool
) -> None:
    async with pool.acquire() as conn, conn.transaction():
        people = (await seed_demo(conn, TOKEN_KEY)).users

    admin = next(person for person in people if person.role == "admin")
    for person in people:
        headers = {"Authorization": f"Bearer {person.token}"}
        me = await api.get(f"/v1/users/{person.user_id}", headers=headers)
        assert me.status_code == 200, me.text
        if person.role == "admin":
            continue
        tokens = await api.get(f"/v1/users/{person.user_id}/tokens", headers=headers)
        (token,) = tokens.json()["tokens"]
        assert token["invitation_id"] is not None
        assert token["issued_by"] == str(admin.user_id)
