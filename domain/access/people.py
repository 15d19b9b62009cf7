"""What makes a clinic's name and a person's email acceptable, wherever they come from (the API
or the operator's command line)."""

import re

EMAIL_PATTERN = r"^[^@\s\x00]+@[^@\s\x00]+\.[^@\s\x00]+$"
NO_NUL_PATTERN = r"^[^\x00]*$"
"""PostgreSQL keeps no NUL character in text: refused as input rather than failing on write."""
MAX_EMAIL_LENGTH = 254
MAX_CLINIC_NAME_LENGTH = 200

_EMAIL = re.compile(EMAIL_PATTERN)


class InvalidDetail(ValueError):
    pass


def normal_email(email: str) -> str:
    """The email as it is stored (lower case); InvalidDetail if it is not one."""
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.match(email):
        raise InvalidDetail(f"{email!r} is not an email address")
    return email.lower()


def clinic_name(name: str) -> str:
    """The name, trimmed; InvalidDetail if nothing is left or it is too long."""
    trimmed = name.strip()
    if not trimmed or len(trimmed) > MAX_CLINIC_NAME_LENGTH:
        raise InvalidDetail(
            f"a clinic's name takes 1 to {MAX_CLINIC_NAME_LENGTH} characters, not {len(trimmed)}"
        )
    if "\x00" in trimmed:
        raise InvalidDetail("a clinic's name cannot hold a NUL character")
    return trimmed
