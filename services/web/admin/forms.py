"""What every admin page's form does: reads its fields, refuses what the API would refuse in
the API's words, and writes nothing when it refuses."""

from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

import msgspec
from litestar import Request

from infra.db.connection import Connection
from services.api.errors import Problem

T = TypeVar("T")
Struct = TypeVar("Struct", bound=msgspec.Struct)

FIELD_WORDS = {
    "display_name": "Name",
    "email": "E-mail address",
    "time_zone": "Time zone",
    "role": "Role",
    "url": "Address (URL)",
    "event_types": "Events",
    "format": "Format",
    "description": "Description",
    "active_goal_limit": "Active goals before a gentle warning",
    "default_time_zone": "Default time zone",
    "max_token_lifetime_days": "Longest sign-in (days)",
}


async def fields_of(request: Request) -> dict[str, str]:
    """The form's fields, each once and trimmed, without its CSRF token; empty ones left out."""
    form = await request.form()
    return {
        name: str(value).strip()
        for name, value in form.items()
        if name != "_csrf_token" and str(value).strip()
    }


def as_struct(kind: type[Struct], fields: Mapping[str, object]) -> Struct | str:
    """The fields as the API's body, or in plain words why they cannot be one."""
    try:
        return msgspec.convert(fields, kind, strict=False)
    except msgspec.ValidationError as error:
        text = str(error)
        named = next((label for name, label in FIELD_WORDS.items() if f"`$.{name}" in text), None)
        if named is None:
            return "Please check the form: " + text
        return f"Please check “{named}”: " + text.split(" - at ", maxsplit=1)[0] + "."


async def attempt(conn: Connection, write: Callable[[], Awaitable[T]]) -> T | Problem:
    """The write's result, or the API's refusal; a refused write leaves nothing (a savepoint)."""
    try:
        async with conn.transaction():
            return await write()
    except Problem as refused:
        return refused
