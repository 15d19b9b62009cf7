"""`goals audit export`: the audit export to a file or standard output, with a progress bar on
standard error."""

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from typing import BinaryIO
from uuid import UUID

import asyncpg

from infra.audit.export import ExportRange, export_lines, export_size
from infra.config import Settings
from services.cli import audit_chain
from services.cli.progress import ProgressBar


def _moment(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("a time without an offset")
    return moment


async def _export(settings: Settings, selected: ExportRange, out: BinaryIO) -> int:
    conn = await asyncpg.connect(settings.database_url)
    try:
        total = await export_size(conn, selected)
        bar = ProgressBar("exporting", unit="records")
        try:
            async for chunk in export_lines(conn, selected, progress=lambda done: bar(done, total)):
                out.write(chunk)
        finally:
            bar.close()
        out.flush()
        return total
    finally:
        await conn.close()


def export(settings: Settings, arguments: argparse.Namespace) -> int:
    try:
        start = _moment(arguments.start) if arguments.start else datetime(1970, 1, 1, tzinfo=UTC)
        end = _moment(arguments.end) if arguments.end else datetime.now(UTC)
    except ValueError:
        print("goals audit export: times take ISO 8601 with an offset", file=sys.stderr)
        return 2
    if start >= end:
        print("goals audit export: --from must come before --to", file=sys.stderr)
        return 2
    selected = ExportRange(start, end, arguments.clinic)
    if arguments.output == "-":
        asyncio.run(_export(settings, selected, sys.stdout.buffer))
        return 0
    with open(arguments.output, "wb") as out:
        asyncio.run(_export(settings, selected, out))
    return 0


def add_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    audit = commands.add_parser("audit", help="the audit trail")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    exporting = audit_commands.add_parser(
        "export",
        help="write the events and access records of a time range as NDJSON (as "
        "GET /v1/audit/export does), with a progress bar on standard error",
    )
    exporting.add_argument("--from", dest="start", help="ISO 8601 time with offset (included)")
    exporting.add_argument("--to", dest="end", help="ISO 8601 time with offset (excluded)")
    exporting.add_argument("--clinic", type=UUID, help="one clinic's records only (default: all)")
    exporting.add_argument("--output", "-o", default="-", help="a file, or - for standard output")
    exporting.set_defaults(run=export)
    audit_chain.add_commands(audit_commands)
