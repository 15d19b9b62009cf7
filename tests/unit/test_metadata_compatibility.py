"""Events written before a field was added still decode: the field takes its default."""

from uuid import UUID

import msgspec

from domain.access.events import TokenIssued, TokenRevoked
from infra.eventstore.envelope import Metadata

TOKEN = UUID("00000000-0000-4000-8000-000000000001")


def test_metadata_from_before_tokens_were_recorded_decodes_without_one() -> None:
    old = b'{"actor_id":null,"actor_role":"system","clinic_id":null,"correlation_id":"c-1"}'

    decoded = msgspec.json.decode(old, type=Metadata)

    assert decoded.token_id is None
    assert decoded.correlation_id == "c-1"


def test_metadata_keeps_the_token_it_was_written_with() -> None:
    written = Metadata(
        actor_id=None, actor_role="client", clinic_id=None, correlation_id="c", token_id=TOKEN
    )

    assert msgspec.json.decode(msgspec.json.encode(written), type=Metadata) == written


def test_token_events_from_before_the_token_tree_decode() -> None:
    issued = msgspec.json.decode(
        b'{"token_id":"%s","user_id":"%s","expires_at":"2026-01-01T00:00:00Z"}'
        % (str(TOKEN).encode(), str(TOKEN).encode()),
        type=TokenIssued,
    )
    revoked = msgspec.json.decode(
        b'{"token_id":"%s","user_id":"%s"}' % (str(TOKEN).encode(), str(TOKEN).encode()),
        type=TokenRevoked,
    )

    assert (issued.parent_id, issued.issued_by, issued.invitation_id) == (None, None, None)
    assert revoked.because_of is None
