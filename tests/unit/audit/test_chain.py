"""The hash chain's pure parts: an untouched log walks clean, and every tampering of one event
(edited, removed, inserted, two swapped) is found by the walk at the position an independent
model of the log expects."""

import random
from dataclasses import dataclass, replace

from hypothesis import given
from hypothesis import strategies as st
from msgspec.structs import replace as changed

from domain.audit.chain import (
    GENESIS,
    Break,
    Breaks,
    ChainLink,
    EventFields,
    StreamWalk,
    canonical,
    link_hash,
)


@dataclass(frozen=True)
class Stored:
    """A row of the log: its fields as they are now, and the hashes it was given when written."""

    fields: EventFields
    previous_hash: bytes
    hash: bytes


def _fields(position: int, stream: str, version: int, data: str) -> EventFields:
    return EventFields(
        position=position,
        transaction_id=1000 + position,
        stream_id=stream,
        stream_version=version,
        event_id=f"00000000-0000-0000-0000-{position:012d}",
        event_type="happened",
        recorded_at_us=1_700_000_000_000_000 + position,
        data=data,
        metadata='{"actor_role": "client"}',
    )


def write(streams: dict[str, list[str]], order: list[str]) -> list[Stored]:
    """The rows the log holds after appending each stream's bodies, taking a stream's next body
    whenever it comes up in `order`, chained as the database chains them."""
    rows: list[Stored] = []
    written = dict.fromkeys(streams, 0)
    before = dict.fromkeys(streams, GENESIS)
    for stream in order:
        if written[stream] == len(streams[stream]):
            continue
        written[stream] += 1
        fields = _fields(
            len(rows) + 1, stream, written[stream], streams[stream][written[stream] - 1]
        )
        hashed = link_hash(before[stream], canonical(fields))
        rows.append(Stored(fields, before[stream], hashed))
        before[stream] = hashed
    return rows


def walk(rows: list[Stored], heads: dict[str, int]) -> Breaks:
    """What the verifier finds: the rows in (stream, version) order, each with its stream's
    head."""
    found = Breaks()
    walker = StreamWalk()
    ordered = sorted(rows, key=lambda row: (row.fields.stream_id, row.fields.stream_version))
    for row in ordered:
        link = ChainLink(
            row.fields.position,
            row.fields.stream_id,
            row.fields.stream_version,
            canonical(row.fields),
            row.previous_hash,
            row.hash,
            heads.get(row.fields.stream_id),
        )
        for broken in walker.check(link):
            found.add(broken)
    for broken in walker.finish():
        found.add(broken)
    return found


_bodies = st.lists(st.text(max_size=12), min_size=2, max_size=6)
_logs = st.dictionaries(st.sampled_from(["a", "b", "c", "é"]), _bodies, min_size=1)


@st.composite
def logs(draw: st.DrawFn) -> tuple[list[Stored], dict[str, int]]:
    streams = draw(_logs)
    slots = [stream for stream, bodies in streams.items() for _ in bodies]
    order = draw(st.permutations(slots))
    return write(streams, order), {stream: len(bodies) for stream, bodies in streams.items()}


@given(logs())
def test_an_untouched_log_walks_clean(log: tuple[list[Stored], dict[str, int]]) -> None:
    rows, heads = log
    found = walk(rows, heads)
    assert (found.count, found.first) == (0, None)


# Few characters, so that two fields often share text.
_short = st.text(alphabet="1:,é", max_size=4)
_small = st.integers(0, 12)
_contents = st.builds(
    EventFields, _small, _small, _short, _small, _short, _short, _small, _short, _short
)
_TEXTS = ("event_id", "event_type", "data", "metadata")


@given(_contents, _contents)
def test_no_two_contents_give_the_same_bytes(first: EventFields, second: EventFields) -> None:
    assert (canonical(first) == canonical(second)) == (first == second)


@given(_contents, st.integers(0, len(_TEXTS) - 2), st.integers(0, 8))
def test_moving_text_from_one_field_to_the_next_changes_the_bytes(
    first: EventFields, field: int, cut: int
) -> None:
    one, other = _TEXTS[field], _TEXTS[field + 1]
    joined = getattr(first, one) + getattr(first, other)
    cut = min(cut, len(joined))
    second = changed(first, **{one: joined[:cut], other: joined[cut:]})
    assert (canonical(first) == canonical(second)) == (first == second)


def _of_stream(rows: list[Stored], stream: str) -> list[Stored]:
    return sorted(
        (row for row in rows if row.fields.stream_id == stream),
        key=lambda row: row.fields.stream_version,
    )


def _versioned(row: Stored, version: int) -> Stored:
    return replace(row, fields=changed(row.fields, stream_version=version))


@given(logs(), st.sampled_from(["edit", "delete", "insert", "append", "swap"]), st.randoms())
def test_one_tampering_is_found_where_the_model_expects(
    log: tuple[list[Stored], dict[str, int]], tampering: str, rnd: random.Random
) -> None:
    rows, heads = log
    stream = rnd.choice(sorted(heads))
    events = _of_stream(rows, stream)
    k = rnd.randrange(len(events))
    target = events[k]
    others = [row for row in rows if row is not target]
    expected: tuple[str, int]

    if tampering == "edit":
        edited = replace(target, fields=changed(target.fields, data=target.fields.data + "!"))
        tampered = [*others, edited]
        expected = ("content_changed", target.fields.position)
    elif tampering == "delete":
        tampered = others
        if k + 1 < len(events):
            expected = ("version_missing", events[k + 1].fields.position)
        else:
            expected = ("head_mismatch", events[k - 1].fields.position)
    elif tampering == "insert":
        # A forged event, well chained, at the target's version; the later ones move up one,
        # and the head with them.
        version = target.fields.stream_version
        forged_fields = _fields(len(rows) + 1, stream, version, "forged")
        forged = Stored(
            forged_fields,
            target.previous_hash,
            link_hash(target.previous_hash, canonical(forged_fields)),
        )
        moved = [_versioned(row, row.fields.stream_version + 1) for row in events[k:]]
        tampered = [row for row in rows if row not in events[k:]] + moved + [forged]
        heads = {**heads, stream: heads[stream] + 1}
        expected = ("content_changed", min(row.fields.position for row in events[k:]))
    elif tampering == "append":
        # Well chained at the end, but the stream's head never moved.
        last = events[-1]
        added_fields = _fields(len(rows) + 1, stream, last.fields.stream_version + 1, "added")
        added = Stored(added_fields, last.hash, link_hash(last.hash, canonical(added_fields)))
        tampered = [*rows, added]
        expected = ("head_mismatch", added_fields.position)
    else:
        other = events[(k + 1) % len(events)]
        swapped = [
            _versioned(target, other.fields.stream_version),
            _versioned(other, target.fields.stream_version),
        ]
        tampered = [row for row in rows if row not in (target, other)] + swapped
        expected = ("content_changed", min(target.fields.position, other.fields.position))

    found = walk(tampered, heads)
    assert found.first is not None
    assert (found.first.kind, found.first.position) == expected


def test_a_break_names_its_event() -> None:
    rows = write({"s": ["one", "two"]}, ["s", "s"])
    edited = replace(rows[0], fields=changed(rows[0].fields, data="uno"))

    found = walk([edited, rows[1]], {"s": 2})

    assert found.first == Break(
        "content_changed", 1, "s", 1, "the event's fields do not give its hash"
    )
    assert found.count == 1
