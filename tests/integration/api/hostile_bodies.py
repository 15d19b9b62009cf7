"""Hypothesis strategies for request bodies, built from the msgspec types the routes declare:
values of the declared shape, mixed with what a hostile client sends instead (NUL characters,
huge and numeric-string numbers, odd offsets, dates far off), and the encoded bytes mutated
(invalid UTF-8 inside a string, nesting thousands deep, cut short)."""

from typing import Any
from uuid import UUID

import msgspec
import msgspec.inspect as mi
from hypothesis import strategies as st

_HUGE_NUMBERS = st.sampled_from(
    [0, -1, 1, 2**31, 2**53 + 1, 2**63, -(2**63), 2**64, 10**30, 1e20, 1e308, -1e308, 5e-324]
)
_NUMERIC_STRINGS = st.from_regex(r"\A-?[0-9]{1,25}(\.[0-9]{1,5})?\Z")
_NUL_TEXT = st.builds(lambda a, b: f"{a}\u0000{b}", st.text(max_size=5), st.text(max_size=5))
_ODD_MOMENTS = st.sampled_from(
    [
        "0001-01-01T00:00:00+05:00",
        "0001-01-01T00:00:00-23:59",
        "9999-12-31T23:59:59-05:00",
        "9999-12-31T23:59:59+23:59",
        "1900-01-01T00:00:00Z",
        "2026-02-29T12:00:00Z",
        "2026-01-01T12:00:00",
        "2026-01-01T25:00:00Z",
    ]
)
_ODD_DAYS = st.sampled_from(["0001-01-01", "1900-01-01", "9999-12-31", "2026-02-30", "2026-13-01"])
_ANY_JSON = st.recursive(
    st.none() | st.booleans() | _HUGE_NUMBERS | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
MARK = "\ue000mark\ue000"
"""Put in a string leaf, then swapped for bytes that are not UTF-8."""


def _hostile_leaf() -> st.SearchStrategy[Any]:
    return st.one_of(
        _NUL_TEXT,
        _HUGE_NUMBERS,
        _NUMERIC_STRINGS,
        _ODD_MOMENTS,
        _ODD_DAYS,
        _ANY_JSON,
        st.just(MARK),
    )


def _text(info: mi.StrType) -> st.SearchStrategy[str]:
    if info.pattern:
        return st.from_regex(info.pattern, fullmatch=True)
    return st.text(min_size=info.min_length or 0, max_size=info.max_length or 80)


def _valid(info: mi.Type, known_ids: list[UUID]) -> st.SearchStrategy[Any]:
    """A value of the type, constraints (msgspec.Meta) included."""
    return _of_type(info.type if isinstance(info, mi.Metadata) else info, known_ids)


def _of_type(info: mi.Type, known_ids: list[UUID]) -> st.SearchStrategy[Any]:
    if isinstance(info, mi.StrType):
        return _text(info)
    if isinstance(info, mi.IntType):
        return st.integers(
            min_value=-5 if info.ge is None else info.ge,
            max_value=400 if info.le is None else info.le,
        )
    if isinstance(info, mi.FloatType):
        return st.integers(0, 30) | st.floats(0, 11, allow_nan=False)
    if isinstance(info, mi.BoolType):
        return st.booleans()
    if isinstance(info, mi.LiteralType):
        return st.sampled_from(info.values)
    if isinstance(info, mi.UUIDType):
        return st.sampled_from(known_ids) | st.uuids()
    if isinstance(info, mi.DateType):
        return st.dates().map(lambda day: day.isoformat())
    if isinstance(info, mi.DateTimeType):
        return st.datetimes(timezones=st.timezones()).map(lambda moment: moment.isoformat())
    if isinstance(info, mi.NoneType):
        return st.none()
    if isinstance(info, mi.UnionType):
        return st.one_of([_valid(member, known_ids) for member in info.types])
    if isinstance(info, mi.ListType):
        return st.lists(_value(info.item_type, known_ids), max_size=info.max_length or 5)
    if isinstance(info, mi.StructType):
        return _struct(info, known_ids)
    raise NotImplementedError(f"no strategy yet for {info!r}: add one")


def _value(info: mi.Type, known_ids: list[UUID]) -> st.SearchStrategy[Any]:
    """Mostly of the declared type, sometimes hostile."""
    return st.one_of(_valid(info, known_ids), _valid(info, known_ids), _hostile_leaf())


@st.composite
def _struct_draw(draw: st.DrawFn, info: mi.StructType, known_ids: list[UUID]) -> dict[str, Any]:
    body = {}
    for field in info.fields:
        if field.required or draw(st.booleans()):
            body[field.encode_name] = draw(_value(field.type, known_ids))
    if draw(st.integers(0, 9)) == 0:
        body[draw(st.text(min_size=1, max_size=8))] = draw(_hostile_leaf())
    return body


def _struct(info: mi.StructType, known_ids: list[UUID]) -> st.SearchStrategy[dict[str, Any]]:
    return _struct_draw(info, known_ids)


def _encoded(value: Any) -> bytes:
    return msgspec.json.encode(value).replace(MARK.encode(), b"\xff\xfe\xc3")


@st.composite
def _mutated(draw: st.DrawFn, value: Any) -> bytes:
    encoded = _encoded(value)
    how = draw(st.sampled_from(["as is", "nested", "cut", "nul byte"]))
    if how == "nested":
        depth = draw(st.sampled_from([64, 3_000, 20_000]))
        nested = b"[" * depth + b"]" * depth
        return encoded.replace(b"null", nested, 1) if b"null" in encoded else nested
    if how == "cut" and len(encoded) > 1:
        return encoded[: draw(st.integers(1, len(encoded) - 1))]
    if how == "nul byte":
        return encoded.replace(b'"', b'"\x00', 1)
    return encoded


def bodies(body_type: Any, known_ids: list[UUID]) -> st.SearchStrategy[bytes]:
    """Encoded bodies for a route that declares `body_type` (None: it reads no body)."""
    if body_type is None:
        shape: st.SearchStrategy[Any] = _ANY_JSON
    else:
        shape = _value(mi.type_info(body_type), known_ids)
    return shape.flatmap(_mutated)
