"""The wire-time parser's fast path reads exactly what strptime reads, and refuses the same."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from aftercare.clock import CHINA, WIRE_FORMAT, format_china_time, parse_china_time

# Near-misses of the wire format: digits in every width and script, other separators, spaces.
PIECES = st.sampled_from(
    ["2026", "11", "1", "07", "00", "24", "60", "99", "-", ":", " ", "T", "２"]
)
NEAR_MISSES = st.lists(PIECES, max_size=14).map("".join)


def _by_strptime(text: str) -> datetime | str:
    try:
        local = datetime.strptime(text.strip(), WIRE_FORMAT)
        return local.replace(tzinfo=CHINA).astimezone(UTC)
    except (ValueError, OverflowError) as error:
        return type(error).__name__


def _by_parser(text: str) -> datetime | str:
    try:
        return parse_china_time(text)
    except (ValueError, OverflowError) as error:
        return type(error).__name__


@given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1)))
def test_every_wire_time_round_trips(moment: datetime) -> None:
    moment = moment.replace(microsecond=0, tzinfo=UTC)
    assert parse_china_time(format_china_time(moment)) == moment


@given(st.one_of(NEAR_MISSES, st.text(max_size=25)))
def test_the_parser_agrees_with_strptime_on_any_text(text: str) -> None:
    assert _by_parser(text) == _by_strptime(text)


def test_the_canonical_form_and_its_lenient_variants() -> None:
    assert parse_china_time("2026-11-20 10:01:02") == datetime(2026, 11, 20, 2, 1, 2, tzinfo=UTC)
    assert parse_china_time(" 2026-1-2 3:4:5 ") == datetime(2026, 1, 1, 19, 4, 5, tzinfo=UTC)
    assert _by_parser("2026-11-20T10:01:02") == "ValueError"
    assert _by_parser("2026-02-30 00:00:00") == "ValueError"
