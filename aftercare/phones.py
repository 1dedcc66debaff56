"""One normaliser for mainland mobile numbers, used wherever a number enters the project."""

from __future__ import annotations

import re
import unicodedata

from aftercare.rules.notices import MOBILE

# What people and exports put between digits: spaces, dashes, dots, brackets, slashes.
_SEPARATORS = re.compile(r"[\s\-.()/]")
# Characters that hide digits: the platform's and shops' masks (full-width ones fold to these).
_MASKS = ("*", "•", "x", "X", "×")
_COUNTRY = ("+86", "0086")


class PhoneRefused(ValueError):
    """Not a usable mainland mobile number; the message says why, never the digits."""


def normalise_phone(value: object) -> str:
    """Return the 11 ASCII digits of the mainland mobile in `value`, or raise PhoneRefused.

    Takes +86, 0086 or 86 in front, spaces, dashes, full-width digits and invisible padding;
    refuses a masked number (the platform hid its digits) and anything else.
    """
    if value is None:
        raise PhoneRefused("no phone number")
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise PhoneRefused(f"a phone number must be text, not {type(value).__name__}")
    folded = unicodedata.normalize("NFKC", str(value))
    # Zero-width spaces and other format characters are invisible padding, not digits.
    text = "".join(ch for ch in folded if unicodedata.category(ch) != "Cf").strip()
    if not text:
        raise PhoneRefused("no phone number")
    if any(mask in text for mask in _MASKS):
        raise PhoneRefused("the number is masked (its digits are hidden) and cannot be used")
    compact = _SEPARATORS.sub("", text)
    for prefix in _COUNTRY:
        if compact.startswith(prefix):
            compact = compact[len(prefix) :]
            break
    else:
        if len(compact) == 13 and compact.startswith("86"):
            compact = compact[2:]
    if not MOBILE.fullmatch(compact):
        raise PhoneRefused("not a mainland mobile number (11 digits starting with 13-19)")
    return compact


def phone_or_none(value: object) -> str | None:
    """Return the normalised number, or None when there is no usable one."""
    try:
        return normalise_phone(value)
    except PhoneRefused:
        return None


_TAIL = re.compile(r"([0-9]{4})\Z")


def phone_tail(value: str | None) -> str | None:
    """Return the last four digits a (masked) number shows, or None when it hides them."""
    if not value:
        return None
    found = _TAIL.search(unicodedata.normalize("NFKC", value).strip())
    return found.group(1) if found else None
