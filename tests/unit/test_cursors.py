"""A cursor decodes to a key the database can take, or is refused as not ours (400), never
handed on to fail there as a 500."""

from datetime import datetime
from uuid import UUID, uuid4

import pytest

from services.api.errors import Problem
from services.api.pages import decode_cursor, encode_cursor


@pytest.mark.parametrize(
    "key",
    [
        # A date that is in range as written and past year 9999 in UTC.
        ("9999-12-31T23:59:59-23:59", str(uuid4())),
        ("0001-01-01T00:00:00+23:59", str(uuid4())),
    ],
)
def test_a_time_that_leaves_the_calendar_in_utc_is_not_a_cursor(key: tuple[str, str]) -> None:
    with pytest.raises(Problem) as refused:
        decode_cursor(encode_cursor(*key), tuple[datetime, UUID])
    assert refused.value.code == "invalid_cursor"


def test_text_with_a_nul_is_not_a_cursor() -> None:
    with pytest.raises(Problem) as refused:
        decode_cursor(encode_cursor("a\x00b", str(uuid4())), tuple[str, UUID])
    assert refused.value.code == "invalid_cursor"


def test_a_cursor_it_gave_out_decodes_to_its_key() -> None:
    key = (datetime.fromisoformat("2026-11-26T15:00:00+01:00"), uuid4())
    assert decode_cursor(encode_cursor(*key), tuple[datetime, UUID]) == key


@pytest.mark.parametrize("number", [2**63, -(2**63) - 1, 2**64 - 1])
def test_a_number_past_a_bigint_is_not_a_cursor(number: int) -> None:
    with pytest.raises(Problem) as refused:
        decode_cursor(encode_cursor(number), tuple[int])
    assert refused.value.code == "invalid_cursor"
