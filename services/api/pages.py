"""Cursor pagination: each list answers at most `MAX_PAGE_SIZE` items and an opaque cursor that
names where the next page starts, so that a page costs the same however far into a list it is."""

import base64
import binascii
from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from litestar.params import QueryParameter

from services.api.errors import FieldError, Problem

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 50

PageSize = Annotated[
    int,
    QueryParameter(
        ge=1,
        le=MAX_PAGE_SIZE,
        description=f"Items per page, at most {MAX_PAGE_SIZE}.",
    ),
]
Cursor = Annotated[
    str | None,
    QueryParameter(max_length=500, description="The `next_cursor` of the page before."),
]


def encode_cursor(*key: object) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(key)).decode().rstrip("=")


def decode_cursor(cursor: str, shape: type[Any], parameter: str = "cursor") -> Any:
    """The key a cursor holds, as `shape` (a tuple type); 400, naming the query `parameter`
    that carried it, if it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = msgspec.json.decode(raw, type=shape)
        _check_storable(key)
    except (binascii.Error, ValueError, OverflowError, msgspec.DecodeError):
        raise Problem(
            400,
            "invalid_cursor",
            "This cursor is not one this list gave out.",
            errors=[FieldError(parameter, "not a cursor of this list")],
        ) from None
    return key


def _check_storable(key: tuple[Any, ...]) -> None:
    """Raises for a part PostgreSQL would refuse: text with a NUL, a number past a bigint, a
    time past year 9999 (or before year 1) once in UTC, which is how it is sent."""
    for part in key:
        if isinstance(part, int) and not -(2**63) <= part < 2**63:
            raise ValueError("a cursor's number past a bigint")
        if isinstance(part, str) and "\x00" in part:
            raise ValueError("a NUL in a cursor's text")
        if isinstance(part, datetime):
            part.astimezone(UTC)
