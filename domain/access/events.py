"""Changes to who may use a clinic's service. Kept in the log for the audit trail."""

from datetime import datetime
from uuid import UUID

import msgspec

from domain.goals.terms import Role


class ClinicCreated(msgspec.Struct, frozen=True, gc=False, tag="clinic_created"):
    clinic_id: UUID
    name: str
    active_goal_limit: int


class UserRegistered(msgspec.Struct, frozen=True, gc=False, tag="user_registered"):
    user_id: UUID
    clinic_id: UUID
    role: Role
    display_name: str
    email: str
    time_zone: str


class TokenIssued(msgspec.Struct, frozen=True, gc=False, tag="token_issued"):
    token_id: UUID
    user_id: UUID
    expires_at: datetime


class TokenRevoked(msgspec.Struct, frozen=True, gc=False, tag="token_revoked"):
    token_id: UUID
    user_id: UUID


class TherapistAssigned(msgspec.Struct, frozen=True, gc=False, tag="therapist_assigned"):
    client_id: UUID
    therapist_id: UUID


class TherapistUnassigned(msgspec.Struct, frozen=True, gc=False, tag="therapist_unassigned"):
    client_id: UUID
    therapist_id: UUID
