"""Whether a notice can go out by SMS, and why not."""

from __future__ import annotations

import re
from collections.abc import Mapping

from aftercare.settings import ChannelSettings

# ASCII digits only (\d would take full-width and other scripts' digits, which no SMS gateway
# accepts) and nothing after them (not even the newline "$" lets through).
MOBILE = re.compile(r"\A1[3-9][0-9]{9}\Z")
# Every reason a buyer must be reached by an agent in the platform's chat (千牛) ends so; the
# agents' hand-off list is built from it.
IM_HANDOFF = "hand to an agent via IM"
MASKED = f"phone masked by the platform (no decryption permission): {IM_HANDOFF}"
NO_PHONE = f"no phone number on the order: {IM_HANDOFF}"


SMS = "sms"
OAID_SMS = "oaid_sms"
DECRYPT_SMS = "decrypt_sms"  # a route to an OAID buyer: decrypt, then text the number
REFUND_MESSAGE = "refund_message"  # a route: a message on the buyer's open refund
# Kinds of message a refund's own message may carry: the after-sales ones, never marketing.
REFUND_MESSAGE_KINDS = frozenset({"logistics", "review", "refund"})


def textable(phone: str | None, phone_masked: bool = False) -> bool:
    """Tell whether a number can be texted directly."""
    return bool(phone) and not phone_masked and bool(MOBILE.match(phone or ""))


def channel_for(phone: str | None, phone_masked: bool, oaid: str | None) -> str | None:
    """Choose the channel: the number itself, else the platform by OAID, else none."""
    if textable(phone, phone_masked):
        return SMS
    return OAID_SMS if oaid else None


def decrypt_scene(purpose: str, scenes: Mapping[str, str]) -> str | None:
    """The decryption scene a message of `purpose` (e.g. logistics_lost) may use, if any."""
    return scenes.get(purpose.split("_", 1)[0]) if purpose else None


def usable_routes(
    routes: tuple[str, ...], purpose: str, scenes: Mapping[str, str]
) -> tuple[str, ...]:
    """The routes to a masked buyer that may carry a message of `purpose`, in their order."""
    family = purpose.split("_", 1)[0]
    return tuple(
        r
        for r in routes
        if (r != DECRYPT_SMS or decrypt_scene(purpose, scenes))
        and (r != REFUND_MESSAGE or family in REFUND_MESSAGE_KINDS)
    )


def masked_reach(channels: ChannelSettings, shop_code: str, purpose: str) -> bool:
    """Whether some route of the shop reaches a masked buyer with a message of `purpose`."""
    return bool(usable_routes(channels.masked_routes(shop_code), purpose, channels.decrypt_scenes))


def sms_blocker(
    phone: str | None, phone_masked: bool, sms_enabled: bool, oaid: str | None = None
) -> str | None:
    """Return why an SMS cannot be sent to this buyer, or None when it can.

    `oaid` is given only where the shop may text by OAID: a masked number then still reaches
    the buyer.
    """
    if not sms_enabled:
        return "the shop has SMS notices turned off"
    if channel_for(phone, phone_masked, oaid) == OAID_SMS:
        return None
    if phone_masked:
        return MASKED
    if not phone:
        return NO_PHONE
    if not MOBILE.match(phone):
        return "invalid mobile number"
    return None
