"""Goal events to and from the log's (type, json) columns."""

import msgspec

from domain.goals.events import GoalEvent
from infra.eventstore.envelope import RecordedEvent

_encoder = msgspec.json.Encoder()
_decoder: msgspec.json.Decoder[GoalEvent] = msgspec.json.Decoder(GoalEvent)


def event_type(event: GoalEvent) -> str:
    return str(type(event).__struct_config__.tag)


def encode_event(event: GoalEvent) -> str:
    return _encoder.encode(event).decode()


def decode_event(recorded: RecordedEvent) -> GoalEvent:
    return _decoder.decode(recorded.data)
