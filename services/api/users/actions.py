"""What an admin does to the clinic's users and care teams, with the API's rules, for the API's
routes and the admin's pages alike: one path to the directory, each write an event in the
person's (or care team's) stream with who did it, so the audit's admin actions show it."""

import uuid
from datetime import UTC, datetime
from uuid import UUID

import msgspec

from domain.access.policy import Caller
from infra.access import directory, identity, invitations
from infra.access.directory import DirectoryEntry
from infra.access.invitation_mail import mail_invitation
from infra.access.queries import User
from infra.config import Settings
from infra.db.connection import Connection
from infra.mail.outbox import InvalidEmail
from services.api.errors import Problem, not_found
from services.api.users.access import known_time_zone, require_admin
from services.api.users.schemas import InvitationOut, NewUser, UserChanges
from services.api.writes import metadata_for


def email_taken() -> Problem:
    return Problem(409, "email_taken", "This clinic already has a user with this email.")


async def register(conn: Connection, caller: Caller, data: NewUser, correlation_id: str) -> User:
    require_admin(caller)
    time_zone = data.time_zone
    if time_zone is not None:
        known_time_zone(time_zone)
    else:
        time_zone = (await directory.clinic_settings(conn, caller.clinic_id)).default_time_zone
    user = User(
        uuid.uuid4(),
        caller.clinic_id,
        data.role,
        data.display_name,
        data.email.lower(),
        time_zone,
        datetime.now(UTC),
    )
    try:
        await identity.register_user(conn, user, metadata_for(caller, correlation_id))
    except identity.EmailTaken:
        raise email_taken() from None
    return user


async def change(
    conn: Connection,
    caller: Caller,
    found: DirectoryEntry,
    data: UserChanges,
    correlation_id: str,
) -> User:
    """The user with `data`'s details (an event only if something changed)."""
    if data.email is not None and caller.role != "admin":
        raise Problem(403, "forbidden", "Only an admin changes a user's email.")
    if data.time_zone is not None:
        known_time_zone(data.time_zone)
    changed = msgspec.structs.replace(
        found.user,
        display_name=data.display_name or found.user.display_name,
        email=found.user.email if data.email is None else data.email.lower(),
        time_zone=data.time_zone or found.user.time_zone,
    )
    if changed != found.user:
        try:
            await directory.change_details(conn, changed, metadata_for(caller, correlation_id))
        except identity.EmailTaken:
            raise email_taken() from None
    return changed


async def deactivate(
    conn: Connection, caller: Caller, found: DirectoryEntry, correlation_id: str
) -> DirectoryEntry:
    require_admin(caller)
    try:
        await directory.deactivate(conn, found.user, metadata_for(caller, correlation_id))
    except directory.LastAdmin:
        raise Problem(
            409, "last_admin", "The clinic's last active admin cannot be deactivated."
        ) from None
    after = await directory.entry(conn, caller.clinic_id, found.user.id)
    assert after is not None  # noqa: S101 - read in the same transaction that found it
    return after


async def invite(
    conn: Connection,
    caller: Caller,
    found: DirectoryEntry,
    settings: Settings,
    correlation_id: str,
) -> InvitationOut:
    """A fresh invitation, e-mailed (through the outbox, in this transaction) whenever e-mail
    is on; its code is in the answer only while e-mail is off."""
    require_admin(caller)
    if found.deactivated_at is not None:
        raise Problem(409, "user_deactivated", "A deactivated user cannot be invited.")
    user = found.user
    made = await invitations.invite(
        conn,
        user.id,
        invited_by=caller.user_id,
        hash_key=settings.token_hash_key,
        metadata=metadata_for(caller, correlation_id),
    )
    invitation = made.invitation
    try:
        mailed = await mail_invitation(
            conn,
            made,
            clinic_id=user.clinic_id,
            to_address=user.email,
            public_base_url=settings.public_base_url,
        )
    except InvalidEmail:
        # The directory takes some addresses that no e-mail can go to ("a,b@example.org").
        raise Problem(
            422,
            "email_undeliverable",
            "No e-mail can be sent to this user's email; correct it, then invite them.",
        ) from None
    if mailed:
        return InvitationOut(invitation.id, user.id, invitation.expires_at, "email")
    return InvitationOut(invitation.id, user.id, invitation.expires_at, "response", made.code)


async def care_team_members(
    conn: Connection, caller: Caller, client_id: UUID, therapist_id: UUID
) -> None:
    """Refuses unless the caller is an admin and these are a client and a therapist of theirs."""
    require_admin(caller)
    client = await directory.entry(conn, caller.clinic_id, client_id)
    therapist = await directory.entry(conn, caller.clinic_id, therapist_id)
    if client is None or therapist is None:
        raise not_found("user")
    if client.user.role != "client":
        raise Problem(422, "not_a_client", "Only clients have a care team.")
    if therapist.user.role != "therapist":
        raise Problem(422, "not_a_therapist", "Only therapists join a care team.")


async def assign(
    conn: Connection, caller: Caller, client_id: UUID, therapist_id: UUID, correlation_id: str
) -> None:
    if not await directory.is_active(conn, therapist_id):
        raise Problem(422, "user_deactivated", "A deactivated therapist joins no care team.")
    await identity.assign_therapist(
        conn, client_id, therapist_id, metadata_for(caller, correlation_id)
    )


async def unassign(
    conn: Connection, caller: Caller, client_id: UUID, therapist_id: UUID, correlation_id: str
) -> None:
    removed = await identity.unassign_therapist(
        conn, client_id, therapist_id, metadata_for(caller, correlation_id)
    )
    if not removed:
        raise not_found("care team assignment")
