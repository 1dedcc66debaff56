"""TOP trade ratings: parsing `taobao.traderates.get` answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aftercare.clients import fields
from aftercare.clients.errors import MalformedResponse

PROVIDER = "taobao"
RATE_FIELDS = (
    "tid,oid,role,nick,result,created,rated_nick,item_title,item_price,content,reply,"
    "valid_score,append_content,append_created"
)
# Follow-up review (追评) fields are not in the public docs (unconfirmed): kept in one place.
APPEND_CONTENT = "append_content"
APPEND_CREATED = "append_created"
# traderate.explain.add refusals once the window closed or a follow-up review came (unconfirmed).
EXPLAIN_CLOSED_CODES = ("isv.explain-not-allowed", "isv.explain-exists")
RESULTS = frozenset({"good", "neutral", "bad"})


@dataclass(frozen=True, slots=True)
class RatingRecord:
    """A buyer's rating of one sub-order, as it stands now."""

    tid: str
    oid: str
    buyer_nick: str
    result: str  # good | neutral | bad
    created: datetime
    item_title: str
    content: str
    reply: str | None
    append_content: str | None
    append_created: datetime | None


@dataclass(frozen=True, slots=True)
class RatingPage:
    """One page of ratings, plus those that could not be read (oid, reason)."""

    ratings: tuple[RatingRecord, ...]
    total_results: int | None
    rejected: tuple[tuple[str, str], ...] = ()


def parse_rating(raw: Any) -> RatingRecord:
    """Turn one trade_rate object into a RatingRecord, or raise MalformedResponse."""
    try:
        if not isinstance(raw, dict):
            raise TypeError("rating is not an object")
        result = fields.text(raw["result"])
        if result not in RESULTS:
            raise ValueError(f"unknown result {result!r:.40}")
        return RatingRecord(
            tid=fields.identifier(raw["tid"]),
            oid=fields.identifier(raw["oid"]),
            buyer_nick=fields.optional_text(raw.get("nick")) or "",
            result=result,
            created=fields.china_time(raw["created"]),
            item_title=fields.optional_text(raw.get("item_title")) or "",
            content=fields.optional_text(raw.get("content")) or "",
            reply=fields.optional_text(raw.get("reply")),
            append_content=fields.optional_text(raw.get(APPEND_CONTENT)),
            append_created=fields.optional_china_time(raw.get(APPEND_CREATED)),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise MalformedResponse(
            f"unreadable rating {_oid(raw)}: {type(error).__name__} {error}", provider=PROVIDER
        ) from None


def _oid(raw: Any) -> str:
    value = raw.get("oid") if isinstance(raw, dict) else None
    return (fields.lenient_text(value) or "?")[:64]


def parse_rating_page(inner: Any) -> RatingPage:
    """Parse a traderates.get answer; one unreadable rating does not cost the page."""
    if not isinstance(inner, dict):
        raise MalformedResponse("ratings answer is not an object", provider=PROVIDER)
    listing = inner.get("trade_rates") or {}
    if not isinstance(listing, dict):
        raise MalformedResponse("trade_rates is not an object", provider=PROVIDER)
    raw = listing.get("trade_rate") or []
    if not isinstance(raw, list):
        raise MalformedResponse("trade_rates.trade_rate is not a list", provider=PROVIDER)
    try:
        total = inner.get("total_results")
        total_results = fields.count(total) if total is not None else None
    except (TypeError, ValueError) as error:
        raise MalformedResponse(f"unreadable ratings page: {error}", provider=PROVIDER) from None
    ratings, rejected = [], []
    for item in raw:
        try:
            ratings.append(parse_rating(item))
        except MalformedResponse as error:
            rejected.append((_oid(item), error.message))
    return RatingPage(tuple(ratings), total_results, tuple(rejected))
