from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from domain.access.people import EMAIL_PATTERN, MAX_EMAIL_LENGTH, NO_NUL_PATTERN
from domain.goals.terms import Role

Email = Annotated[str, msgspec.Meta(pattern=EMAIL_PATTERN, max_length=MAX_EMAIL_LENGTH)]
DisplayName = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=NO_NUL_PATTERN)]
TimeZone = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class NewUser(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    role: Role
    display_name: DisplayName
    email: Email
    time_zone: TimeZone | None = None
    """Omitted: the clinic's default time zone."""


class UserChanges(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The details to change; those omitted stay as they are. Only an admin changes an email."""

    display_name: DisplayName | None = None
    email: Email | None = None
    time_zone: TimeZone | None = None


class UserOut(msgspec.Struct, frozen=True):
    id: UUID
    clinic_id: UUID
    role: Role
    display_name: str
    email: str
    time_zone: str
    created_at: datetime
    deactivated_at: datetime | None = None


class UserPage(msgspec.Struct, frozen=True):
    users: list[UserOut]
    next_cursor: str | None
    """Pass as `cursor` for the next page; null on the last page."""


class NewToken(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    expires_in_days: Annotated[int, msgspec.Meta(ge=1, le=365)] = 90


class TokenOut(msgspec.Struct, frozen=True, omit_defaults=True):
    token_id: UUID
    user_id: UUID
    expires_at: datetime
    token: str | None = None
    """The token itself: shown once, in the first response, and never again."""


class TokenInfo(msgspec.Struct, frozen=True):
    """What is known of a token: never the token itself."""

    token_id: UUID
    user_id: UUID
    parent_id: UUID | None
    """The token it was minted with; null for one from an invitation or the command line."""
    issued_by: UUID | None
    """Its user, or the admin whose invitation it came from; null for the command line."""
    invitation_id: UUID | None
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


class TokenPage(msgspec.Struct, frozen=True):
    tokens: list[TokenInfo]
    next_cursor: str | None


class RevokedTokens(msgspec.Struct, frozen=True):
    revoked: list[UUID]
    """The tokens this revoked (a token's descendants with it)."""


class InvitationOut(msgspec.Struct, frozen=True, omit_defaults=True):
    invitation_id: UUID
    user_id: UUID
    expires_at: datetime
    delivery: Literal["response", "email"]
    """How the code reaches the user: `email` while e-mail is on (`SMTP_HOST`), and the code is
    then never in a response; `response` while it is off, and then only in this first one."""
    code: str | None = None


class Redemption(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    expires_in_days: Annotated[int, msgspec.Meta(ge=1, le=365)] = 90


class Assignment(msgspec.Struct, frozen=True):
    client_id: UUID
    therapist_id: UUID
