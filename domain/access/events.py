"""Changes to who may use a clinic's service. Kept in the log for the audit trail."""

from datetime import datetime
from uuid import UUID

import msgspec

from domain.goals.terms import Role


class ClinicCreated(msgspec.Struct, frozen=True, gc=False, tag="clinic_created"):
    clinic_id: UUID
    name: str
    active_goal_limit: int
    default_time_zone: str = "UTC"
    max_token_lifetime_days: int = 90


class ClinicSettingsChanged(msgspec.Struct, frozen=True, gc=False, tag="clinic_settings_changed"):
    """The clinic's settings as they are from now on."""

    clinic_id: UUID
    active_goal_limit: int
    default_time_zone: str
    max_token_lifetime_days: int


class UserRegistered(msgspec.Struct, frozen=True, gc=False, tag="user_registered"):
    user_id: UUID
    clinic_id: UUID
    role: Role
    display_name: str
    email: str
    time_zone: str


class UserDetailsChanged(msgspec.Struct, frozen=True, gc=False, tag="user_details_changed"):
    """The user's details as they are from now on."""

    user_id: UUID
    display_name: str
    email: str
    time_zone: str


class UserDeactivated(msgspec.Struct, frozen=True, gc=False, tag="user_deactivated"):
    user_id: UUID


class TokenIssued(msgspec.Struct, frozen=True, gc=False, tag="token_issued"):
    token_id: UUID
    user_id: UUID
    expires_at: datetime
    parent_id: UUID | None = None
    """The token it was minted with; None for a token from an invitation or the command line."""
    issued_by: UUID | None = None
    """Who let it be issued: its user, or the admin whose invitation it came from."""
    invitation_id: UUID | None = None


class TokenRevoked(msgspec.Struct, frozen=True, gc=False, tag="token_revoked"):
    token_id: UUID
    user_id: UUID
    because_of: UUID | None = None
    """The ancestor whose revocation took this token with it, if it was not named itself."""


class InvitationCreated(msgspec.Struct, frozen=True, gc=False, tag="invitation_created"):
    invitation_id: UUID
    user_id: UUID
    expires_at: datetime


class InvitationRedeemed(msgspec.Struct, frozen=True, gc=False, tag="invitation_redeemed"):
    invitation_id: UUID
    user_id: UUID
    token_id: UUID


class InvitationWithdrawn(msgspec.Struct, frozen=True, gc=False, tag="invitation_withdrawn"):
    """An invitation that can no longer be redeemed: a newer one replaced it, or its user's
    credentials were all revoked."""

    invitation_id: UUID
    user_id: UUID


class TherapistAssigned(msgspec.Struct, frozen=True, gc=False, tag="therapist_assigned"):
    client_id: UUID
    therapist_id: UUID


class TherapistUnassigned(msgspec.Struct, frozen=True, gc=False, tag="therapist_unassigned"):
    client_id: UUID
    therapist_id: UUID


AccessEvent = (
    ClinicCreated
    | ClinicSettingsChanged
    | UserRegistered
    | UserDetailsChanged
    | UserDeactivated
    | TokenIssued
    | TokenRevoked
    | InvitationCreated
    | InvitationRedeemed
    | InvitationWithdrawn
    | TherapistAssigned
    | TherapistUnassigned
)
