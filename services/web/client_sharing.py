"""Finding the partner a client names by e-mail address: an active accountability partner
(supporter) of the client's own clinic, or no one."""

from uuid import UUID

from infra.db.connection import Connection


async def supporter_by_email(conn: Connection, clinic_id: UUID, email: str) -> UUID | None:
    if not email:
        return None
    found: UUID | None = await conn.fetchval(
        "SELECT id FROM users WHERE clinic_id = $1 AND lower(email) = lower($2)"
        " AND role = 'supporter' AND deactivated_at IS NULL",
        clinic_id,
        email,
    )
    return found
