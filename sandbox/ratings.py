"""Buyers' ratings of sub-orders (评价), with their scheduled revisions and follow-ups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

GOOD, NEUTRAL, BAD = "good", "neutral", "bad"
RESULTS = (GOOD, NEUTRAL, BAD)
DEFAULT_RATING_WEIGHTS: dict[str, float] = {GOOD: 85, NEUTRAL: 10, BAD: 5}

# Why a buyer left a neutral or bad rating (the team's categories, made finer).
CAUSES = ("quality", "wrong_item", "description", "logistics", "service", "mood", "malicious")

# Taobao lets a shop explain a rating for this long after it was left.
EXPLAIN_WINDOW = timedelta(days=30)
# traderates.get only reaches this far back.
RATING_LOOKBACK = timedelta(days=180)
MAX_REPLY_CHARS = 500


class RateWire:
    """Wire names the public TOP docs leave unconfirmed, kept in one place."""

    # Follow-up review (追评) fields of a trade_rate.
    APPEND_CONTENT = "append_content"
    APPEND_CREATED = "append_created"
    # Sub-codes of traderate.explain.add refusals (error code 15).
    EXPLAIN_NOT_ALLOWED = "isv.explain-not-allowed"
    EXPLAIN_EXISTS = "isv.explain-exists"


@dataclass(frozen=True, slots=True)
class Rating:
    """A buyer's rating of one sub-order, with what will happen to it later.

    `result` and `content` are as the buyer first left them; `result_at`/`content_at` give
    what the shop sees at a given time (a revision turns it good, maybe with new words).
    """

    tid: int
    oid: int
    shop: str
    nick: str
    item_title: str
    item_price: str
    result: str
    cause: str | None
    content: str
    created: datetime
    valid_score: bool = True
    revised_at: datetime | None = None
    revised_content: str | None = None
    append_at: datetime | None = None
    append_content: str | None = None

    def result_at(self, when: datetime) -> str:
        """Return the result shown at `when`."""
        if self.revised_at is not None and self.revised_at <= when:
            return GOOD
        return self.result

    def content_at(self, when: datetime) -> str:
        """Return the review text shown at `when`."""
        if self.revised_at is not None and self.revised_at <= when and self.revised_content:
            return self.revised_content
        return self.content

    def appended_by(self, when: datetime) -> bool:
        """Tell whether the buyer has added a follow-up review by `when`."""
        return self.append_at is not None and self.append_at <= when


@dataclass(frozen=True, slots=True)
class Explanation:
    """A shop's public explanation (评价解释) of one rating, as posted through TOP."""

    oid: int
    reply: str
    at: datetime
    shop: str
    tid: int
