"""What a client's forms share: PostgreSQL cannot keep a NUL character in text, so a field with
one is refused next to itself, as the API's bodies refuse it (services/api/bodies.py)."""

from collections.abc import Iterable, Mapping

NUL_WORDS = "This has a character we cannot keep. Please type it again."


def with_nul(typed: Mapping[str, str], names: Iterable[str] | None = None) -> str | None:
    """The first field (of `names`, or of all) whose text holds a NUL; None if none does."""
    return next(
        (name for name in (typed if names is None else names) if "\x00" in typed.get(name, "")),
        None,
    )
