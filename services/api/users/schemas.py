from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

from domain.goals.terms import Role

Email = Annotated[str, msgspec.Meta(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]
DisplayName = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
TimeZone = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class NewUser(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    role: Role
    display_name: DisplayName
    email: Email
    time_zone: TimeZone = "UTC"


class UserOut(msgspec.Struct, frozen=True):
    id: UUID
    clinic_id: UUID
    role: Role
    display_name: str
    email: str
    time_zone: str
    created_at: datetime


class NewToken(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    expires_in_days: Annotated[int, msgspec.Meta(ge=1, le=365)] = 90


class TokenOut(msgspec.Struct, frozen=True, omit_defaults=True):
    token_id: UUID
    user_id: UUID
    expires_at: datetime
    token: str | None = None
    """The token itself: shown once, in the first response, and never again."""


class Assignment(msgspec.Struct, frozen=True):
    client_id: UUID
    therapist_id: UUID
