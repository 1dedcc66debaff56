"""TOP trade ratings: parsing `taobao.traderates.get` answers (DOMAIN.md §4)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aftercare.clients.errors import MalformedResponse
from aftercare.clock import parse_china_time

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
        result = str(raw["result"])
        if result not in RESULTS:
            raise ValueError(f"unknown result {result!r}")
        appended = raw.get(APPEND_CREATED)
        return RatingRecord(
            tid=str(int(raw["tid"])),
            oid=str(int(raw["oid"])),
            buyer_nick=str(raw.get("nick") or ""),
            result=result,
            created=parse_china_time(raw["created"]),
            item_title=str(raw.get("item_title") or ""),
            content=str(raw.get("content") or ""),
            reply=raw.get("reply") or None,
            append_content=raw.get(APPEND_CONTENT) or None,
            append_created=parse_china_time(appended) if appended else None,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        oid = raw.get("oid") if isinstance(raw, dict) else None
        raise MalformedResponse(
            f"unreadable rating {oid}: {type(error).__name__} {error}", provider=PROVIDER
        ) from None


def parse_rating_page(inner: dict[str, Any]) -> RatingPage:
    """Parse a traderates.get answer; one unreadable rating does not cost the page."""
    raw = (inner.get("trade_rates") or {}).get("trade_rate") or []
    if not isinstance(raw, list):
        raise MalformedResponse("trade_rates.trade_rate is not a list", provider=PROVIDER)
    ratings, rejected = [], []
    for item in raw:
        try:
            ratings.append(parse_rating(item))
        except MalformedResponse as error:
            oid = str(item.get("oid", "?")) if isinstance(item, dict) else "?"
            rejected.append((oid, error.message))
    total = inner.get("total_results")
    return RatingPage(tuple(ratings), int(total) if total is not None else None, tuple(rejected))
