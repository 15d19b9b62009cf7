"""Request bodies are decoded once, strictly, into the type the route declares.

Litestar's own path decodes JSON into plain values and then converts them leniently ("1" becomes
1), after the fact and with no bound on what reaches the converter. Here the bytes go straight
into the declared msgspec type with `strict=True`, as the OpenAPI document describes it, and
every way a body can be hostile is refused with problem details before any handler runs:

- a value of the wrong type, a string where a number belongs included: 422 `invalid_input`,
  naming the field (once the caller is known, as Litestar's own check would);
- a NUL character in any string (PostgreSQL cannot store it in text): the same;
- bytes that are not UTF-8, or JSON nested past what any body can mean (msgspec would raise
  `RecursionError` in untyped parts): 400 `malformed_body`.

Litestar converts the typed value it gets back again; a struct of the declared type passes
through that conversion unchanged.
"""

import re
from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException
from litestar.types import Empty

from services.api.errors import REFUSED_BODY, Problem

_NUL_ESCAPE = b"\\u0000"
_PATH = re.compile(r" - at `\$([^`]*)`$")
_NUL_MESSAGE = "Text may not contain the NUL character (\\u0000)."


def _field_of(path: str) -> str:
    """`$.measure.target` as `measure.target`, `$.values[1]` as `values[1]`."""
    return path.removeprefix(".")


def validation_failure(error: msgspec.ValidationError) -> ValidationException:
    """msgspec's message, split into the field's path and words for a person."""
    message = str(error)
    found = _PATH.search(message)
    key = _field_of(found.group(1)) if found else ""
    words = message[: found.start()] if found else message
    return ValidationException(extra=[{"key": key, "message": words, "source": "body"}])


def _nul_paths(value: object, path: str = "") -> list[str]:
    if isinstance(value, str):
        return [path or "body"] if "\x00" in value else []
    if isinstance(value, dict):
        return [
            found
            for key, item in value.items()
            for found in _nul_paths(item, f"{path}.{key}" if path else str(key))
        ]
    if isinstance(value, list):
        return [
            found
            for index, item in enumerate(value)
            for found in _nul_paths(item, f"{path}[{index}]")
        ]
    return []


def decode_body(body: bytes, target: Any) -> Any:
    """The body as `target`, or the problem that refuses it."""
    try:
        decoded = msgspec.json.decode(body or b"null", type=target, strict=True)
    except msgspec.ValidationError as error:
        raise validation_failure(error) from None
    except msgspec.DecodeError:
        raise Problem(400, "malformed_body", "The body is not valid JSON.") from None
    except UnicodeDecodeError:
        raise Problem(400, "malformed_body", "The body is not valid UTF-8.") from None
    except RecursionError:
        raise Problem(400, "malformed_body", "The body's JSON is nested too deeply.") from None
    # JSON can carry a NUL only as an escape, so a body without one needs no walk.
    if _NUL_ESCAPE in body:
        paths = _nul_paths(msgspec.to_builtins(decoded))
        if paths:
            raise ValidationException(
                extra=[{"key": path, "message": _NUL_MESSAGE, "source": "body"} for path in paths]
            )
    return decoded


class _RefusedBody:
    """Stands for a body refused field by field, until Litestar's own check refuses it."""


class StrictRequest(Request[Any, Any, Any]):
    """A request whose JSON body is decoded strictly into the route's declared body type."""

    async def json(self) -> Any:
        data_field = self.route_handler.parsed_data_field
        if data_field is None:
            return await super().json()
        cached = self._connection_state.json
        if cached is not Empty:
            return cached
        try:
            decoded = decode_body(await self.body(), data_field.annotation)
        except ValidationException as refused:
            # Litestar reads the body before it resolves the dependencies that authenticate the
            # caller, and checks the values it got after: a body that is not valid JSON is
            # refused here, as before, but one with fields at fault only where Litestar checks
            # it, so that a caller without credentials hears that first. `on_validation` then
            # answers with what is at fault here.
            self.state[REFUSED_BODY] = refused
            decoded = _RefusedBody()
        self._json = self._connection_state.json = decoded
        return decoded
