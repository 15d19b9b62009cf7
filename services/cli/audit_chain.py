"""`goals audit verify`, `goals audit checkpoint` and `goals audit checkpoints`: the log's hash
chain and its signed checkpoints, from the command line."""

import argparse
import asyncio
import sys
from typing import BinaryIO
from uuid import UUID

import asyncpg
import msgspec

from infra.audit.chain_walk import events_to_verify
from infra.audit.checkpoints import StoredCheckpoint, make_checkpoint, stored_checkpoints
from infra.audit.signing import SigningKeyError, signing_key, verifying_key
from infra.audit.verification import WALKERS, Verification, verify_log
from infra.config import Settings
from services.cli.progress import ProgressBar


def checkpoint_record(checkpoint: StoredCheckpoint) -> dict[str, object]:
    """A checkpoint as one JSON object, everything its signature covers in hexadecimal: with the
    operator's public key, it verifies on its own (docs/audit.md)."""
    facts = checkpoint.facts
    return {
        "sequence": facts.sequence,
        "fence": facts.fence,
        "events": facts.events,
        "last_position": facts.last_position,
        "previous_digest": facts.previous_digest.hex(),
        "digest": facts.digest.hex(),
        "taken_at": checkpoint.taken_at.isoformat(),
        "taken_at_us": facts.taken_at_us,
        "public_key": checkpoint.public_key.hex(),
        "signature": checkpoint.signature.hex(),
    }


async def _verify(settings: Settings, clinic_id: UUID | None) -> Verification:
    key = verifying_key(settings)
    async with asyncpg.create_pool(settings.database_url, min_size=1, max_size=WALKERS + 1) as pool:
        async with pool.acquire() as conn:
            total = await events_to_verify(conn, clinic_id)
        bar = ProgressBar("verifying")
        try:
            return await verify_log(pool, clinic_id, key, lambda done: bar(done, total))
        finally:
            bar.close()


def verify(settings: Settings, arguments: argparse.Namespace) -> int:
    try:
        found = asyncio.run(_verify(settings, arguments.clinic))
    except SigningKeyError as error:
        print(f"goals audit verify: {error}", file=sys.stderr)
        return 2
    sys.stdout.buffer.write(msgspec.json.format(msgspec.json.encode(found)) + b"\n")
    if not found.signatures_checked:
        print(
            "goals audit verify: no AUDIT_VERIFY_KEY_FILE or AUDIT_SIGNING_KEY_FILE: "
            "checkpoints' signatures were not checked",
            file=sys.stderr,
        )
    return 0 if found.intact else 1


async def _checkpoint(settings: Settings) -> StoredCheckpoint | None:
    key = signing_key(settings)
    if key is None:
        raise SigningKeyError("AUDIT_SIGNING_KEY_FILE is not set")
    conn = await asyncpg.connect(settings.database_url)
    try:
        return await make_checkpoint(conn, key, even_if_unchanged=True)
    finally:
        await conn.close()


def checkpoint(settings: Settings, _: argparse.Namespace) -> int:
    try:
        made = asyncio.run(_checkpoint(settings))
    except SigningKeyError as error:
        print(f"goals audit checkpoint: {error}", file=sys.stderr)
        return 2
    if made is None:
        print("goals audit checkpoint: another checkpoint is being made", file=sys.stderr)
        return 1
    sys.stdout.buffer.write(msgspec.json.encode(checkpoint_record(made)) + b"\n")
    return 0


async def _write_checkpoints(settings: Settings, out: BinaryIO) -> None:
    conn = await asyncpg.connect(settings.database_url)
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            async for stored in stored_checkpoints(conn):
                out.write(msgspec.json.encode(checkpoint_record(stored)) + b"\n")
        out.flush()
    finally:
        await conn.close()


def checkpoints(settings: Settings, arguments: argparse.Namespace) -> int:
    if arguments.output == "-":
        asyncio.run(_write_checkpoints(settings, sys.stdout.buffer))
        return 0
    with open(arguments.output, "wb") as out:
        asyncio.run(_write_checkpoints(settings, out))
    return 0


def add_commands(audit_commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    verifying = audit_commands.add_parser(
        "verify",
        help="recompute the log's hash chains and check its signed checkpoints; prints what it "
        "found as JSON, the first broken link with its position; exit status 1 if anything broke",
    )
    verifying.add_argument("--clinic", type=UUID, help="one clinic's chains (default: all)")
    verifying.set_defaults(run=verify)
    checkpointing = audit_commands.add_parser(
        "checkpoint", help="sign a checkpoint of the log now, with AUDIT_SIGNING_KEY_FILE"
    )
    checkpointing.set_defaults(run=checkpoint)
    listing = audit_commands.add_parser(
        "checkpoints", help="write every signed checkpoint as NDJSON, for safekeeping"
    )
    listing.add_argument("--output", "-o", default="-", help="a file, or - for standard output")
    listing.set_defaults(run=checkpoints)
