"""The shop platform's message channel (TMC), polled: messages are triggers, never state."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aftercare.clients import fields
from aftercare.clients.errors import MalformedResponse
from aftercare.clients.listing import readable

PROVIDER = "taobao"
# A message's content is kept as received, up to this long (an id-only payload is short).
CONTENT_LIMIT = 4000


@dataclass(frozen=True, slots=True)
class ChannelMessage:
    """One message of the channel: what happened to which trade, refund or seller."""

    id: str
    topic: str
    seller_nick: str | None
    published_at: datetime | None
    tid: str | None
    oid: str | None
    refund_id: str | None
    content: str
    # The shop the message is of, where the platform names it by id rather than by nick.
    shop_code: str | None = None


@dataclass(frozen=True, slots=True)
class MessageBatch:
    """One consume call's messages, and (id, reason) of those that could not be read."""

    messages: tuple[ChannelMessage, ...]
    rejected: tuple[tuple[str, str], ...] = ()


def parse_message(raw: Any) -> ChannelMessage:
    """Read one message; its id and topic are required, the rest is what its content names."""
    if not isinstance(raw, dict):
        raise MalformedResponse("message is not an object", provider=PROVIDER)
    try:
        message_id = fields.identifier(raw.get("id"))
        topic = fields.text(raw.get("topic")).strip()
        text = fields.optional_text(raw.get("content")) or "{}"
        content = json.loads(text)
        if not isinstance(content, dict):
            raise ValueError("content is not an object")
        return ChannelMessage(
            id=message_id,
            topic=topic[:80],
            seller_nick=fields.lenient_text(raw.get("user_nick")),
            published_at=fields.optional_china_time(raw.get("pub_time")),
            tid=_optional_id(content.get("tid")),
            oid=_optional_id(content.get("oid")),
            refund_id=_optional_id(content.get("refund_id")),
            content=text[:CONTENT_LIMIT],
        )
    except (TypeError, ValueError) as error:
        raise MalformedResponse(f"unreadable message: {error}", provider=PROVIDER) from None


def _optional_id(value: Any) -> str | None:
    return None if value in (None, "") else fields.identifier(value)


def parse_batch(inner: Any) -> MessageBatch:
    """Parse a tmc.messages.consume answer; one unreadable message does not cost the batch."""
    if not isinstance(inner, dict):
        raise MalformedResponse("messages answer is not an object", provider=PROVIDER)
    listing = inner.get("messages") or []
    if isinstance(listing, dict):  # JSON answers wrap the list: {"tmc_message": [...]}
        listing = listing.get("tmc_message") or []
    if not isinstance(listing, list):
        raise MalformedResponse("messages is not a list", provider=PROVIDER)
    messages, rejected = readable(listing, parse_message, "id")
    return MessageBatch(tuple(messages), tuple(rejected))
