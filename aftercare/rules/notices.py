"""Whether a notice can go out by SMS, and why not."""

from __future__ import annotations

import re

MOBILE = re.compile(r"^1[3-9]\d{9}$")


def sms_blocker(phone: str | None, phone_masked: bool, sms_enabled: bool) -> str | None:
    """Return why an SMS cannot be sent to this buyer, or None when it can."""
    if not sms_enabled:
        return "the shop has SMS notices turned off"
    if phone_masked:
        return "phone masked by the platform (no decryption permission): hand to an agent via IM"
    if not phone:
        return "no phone number on the order: hand to an agent via IM"
    if not MOBILE.match(phone):
        return "invalid mobile number"
    return None
