"""The one phone normaliser: every format a number comes in, and what it refuses."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftercare.phones import PhoneRefused, normalise_phone

FULL_WIDTH = str.maketrans("0123456789+-", "０１２３４５６７８９＋－")


@pytest.mark.parametrize(
    "written",
    [
        "13800138000",
        "+8613800138000",
        "8613800138000",
        "008613800138000",
        "+86 138 0013 8000",
        "138-0013-8000",
        "138 0013 8000",
        " 13800138000\n",
        "１３８００１３８０００",
        "＋８６１３８００１３８０００",
        "138\u200b0013\u30008000",  # a zero-width space and an ideographic space
        "(+86) 138.0013.8000",
        13800138000,
    ],
)
def test_every_way_a_number_is_written_gives_the_same_eleven_digits(written):
    assert normalise_phone(written) == "13800138000"


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (None, "no phone number"),
        ("", "no phone number"),
        ("   ", "no phone number"),
        ("None", "not a mainland mobile"),
        ("138****8000", "masked"),
        ("138＊＊＊＊8000", "masked"),
        ("135*******", "masked"),
        ("1380013800", "not a mainland mobile"),
        ("12800138000", "not a mainland mobile"),
        ("861380013800", "not a mainland mobile"),
        ("+1 415 555 0100", "not a mainland mobile"),
        ("١٣٨٠٠١٣٨٠٠٠", "not a mainland mobile"),  # Arabic-Indic digits are no SMS number
        (True, "must be text"),
        (["13800138000"], "must be text"),
    ],
)
def test_what_is_not_a_usable_number_is_refused_with_the_reason(value, why):
    with pytest.raises(PhoneRefused, match=why) as refused:
        normalise_phone(value)
    assert "8000" not in str(refused.value), "a refusal never repeats the digits"


mobiles = st.from_regex(r"\A1[3-9][0-9]{9}\Z")


@given(
    mobiles,
    st.sampled_from(["", "+86", "86", "0086", "+86 ", "(+86)"]),
    st.sampled_from(["", " ", "-", "\u3000", "\u200b"]),
    st.booleans(),
)
def test_a_decorated_number_normalises_to_itself(mobile, prefix, separator, wide):
    written = prefix + separator.join([mobile[:3], mobile[3:7], mobile[7:]])
    if wide:
        written = written.translate(FULL_WIDTH)
    assert normalise_phone(written) == mobile
    assert normalise_phone(normalise_phone(written)) == mobile


@pytest.mark.parametrize(
    ("masked", "tail"),
    [("138****5678", "5678"), ("138＊＊＊＊５６７８", "5678"), ("135********", None), (None, None)],
)
def test_a_masked_number_gives_the_last_four_digits_it_shows(masked, tail):
    from aftercare.phones import phone_tail

    assert phone_tail(masked) == tail
