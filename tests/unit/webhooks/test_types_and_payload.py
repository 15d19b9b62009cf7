import uuid
from datetime import UTC, datetime

import msgspec
import pytest

from domain.goals.events import GoalEvent
from domain.nudges.events import NudgeSent
from domain.webhooks.payload import Disclosed, body
from domain.webhooks.types import (
    NUDGE_SENT,
    SUBSCRIBABLE,
    WEBHOOK_TYPES,
    subscribes,
    unknown_types,
    webhook_type,
)


def test_every_goal_event_but_supporters_has_a_webhook_type() -> None:
    tags = {str(member.__struct_config__.tag) for member in GoalEvent.__args__}
    assert set(WEBHOOK_TYPES) == tags - {"supporter_added", "supporter_removed"}
    assert webhook_type("supporter_added") is None
    assert webhook_type("correction_recorded") == "goal.corrected"


def test_subscriptions_name_known_types_or_all() -> None:
    assert unknown_types(["*"]) == []
    assert unknown_types(["goal.set", NUDGE_SENT]) == []
    assert unknown_types(["goal.set", "goal_set", "*"]) == ["goal_set", "*"]
    assert subscribes(["*"], "goal.rated")
    assert subscribes(["goal.rated"], "goal.rated")
    assert not subscribes(["goal.set"], "goal.rated")
    assert len(SUBSCRIBABLE) == 11


DISCLOSED = Disclosed(
    event_id=uuid.UUID(int=1),
    webhook_type="goal.achieved",
    sequence=7,
    position=42,
    goal_id=uuid.UUID(int=2),
    stream_version=3,
    clinic_id=uuid.UUID(int=3),
    actor_role="therapist",
    recorded_at=datetime(2026, 3, 20, 12, 0, tzinfo=UTC),
    fields='{"goal_id": "00000000-0000-0000-0000-000000000002", "note": "private"}',
)


def test_id_only_says_where_the_event_stands_and_nothing_of_its_fields() -> None:
    sent = msgspec.json.decode(body(DISCLOSED, "id-only"))
    assert sent == {
        "type": "goal.achieved",
        "timestamp": "2026-03-20T12:00:00Z",
        "data": {
            "event_id": str(uuid.UUID(int=1)),
            "sequence": 7,
            "position": 42,
            "goal_id": str(uuid.UUID(int=2)),
            "stream_version": 3,
            "clinic_id": str(uuid.UUID(int=3)),
            "actor_role": "therapist",
        },
    }
    assert b"private" not in body(DISCLOSED, "id-only")


def test_full_carries_the_fields_and_the_bytes_never_change() -> None:
    assert msgspec.json.decode(body(DISCLOSED, "full"))["data"]["event"]["note"] == "private"
    assert body(DISCLOSED, "full") == body(DISCLOSED, "full")


def test_fhir_carries_the_goal_it_is_given_and_needs_one() -> None:
    goal: dict[str, object] = {"resourceType": "Goal", "id": str(uuid.UUID(int=2))}
    sent = msgspec.json.decode(body(DISCLOSED, "fhir", goal))
    assert sent["data"]["resource"] == goal
    assert "event" not in sent["data"]
    assert "resource" not in msgspec.json.decode(body(DISCLOSED, "full", goal))["data"]
    with pytest.raises(ValueError, match="FHIR Goal"):
        body(DISCLOSED, "fhir")


NUDGE = NudgeSent(
    nudge_id=uuid.UUID(int=9),
    key=f"after_miss:{uuid.UUID(int=2)}:2026-03-20:{uuid.UUID(int=5)}",
    kind="after_miss",
    recipient_id=uuid.UUID(int=5),
    goal_id=uuid.UUID(int=2),
    channels=("in_app", "email"),
)
NUDGE_DISCLOSED = msgspec.structs.replace(
    DISCLOSED,
    webhook_type=NUDGE_SENT,
    goal_id=NUDGE.goal_id,
    stream_version=1,
    actor_role="system",
    fields=msgspec.json.encode(NUDGE).decode(),
    recipient_role="client",
)


def test_a_nudge_sent_says_which_nudge_and_in_full_its_rule_goal_role_and_channels() -> None:
    ids = {
        "event_id": str(uuid.UUID(int=1)),
        "sequence": 7,
        "position": 42,
        "nudge_id": str(uuid.UUID(int=9)),
        "goal_id": str(uuid.UUID(int=2)),
        "stream_version": 1,
        "clinic_id": str(uuid.UUID(int=3)),
        "actor_role": "system",
    }
    for format in ("id-only", "fhir"):
        assert msgspec.json.decode(body(NUDGE_DISCLOSED, format))["data"] == ids
    full = msgspec.json.decode(body(NUDGE_DISCLOSED, "full"))
    assert full["type"] == "nudge.sent"
    assert full["data"] == {
        **ids,
        "nudge": {
            "rule": "after_miss",
            "goal_id": str(uuid.UUID(int=2)),
            "recipient_role": "client",
            "channels": ["in_app", "email"],
        },
    }
    # Neither the key nor the recipient: who it went to is no other system's business.
    assert str(uuid.UUID(int=5)) not in body(NUDGE_DISCLOSED, "full").decode()
