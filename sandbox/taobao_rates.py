"""TOP rating methods: taobao.traderates.get and taobao.traderate.explain.add."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from .clock import SimClock
from .ratings import (
    EXPLAIN_WINDOW,
    MAX_REPLY_CHARS,
    RATING_LOOKBACK,
    RESULTS,
    Explanation,
    RateWire,
    Rating,
)
from .shops import Shop
from .top import (
    TopError,
    fields_param,
    flag_param,
    id_param,
    int_param,
    invalid,
    missing,
    optional_time_param,
)
from .wire import china_time
from .world import World

MAX_PAGE_SIZE = 150
DEFAULT_PAGE_SIZE = 40


def _refused(sub_code: str, why: str) -> TopError:
    return TopError(15, "Remote service error", sub_code, why)


class TradeRates:
    """Serve the ratings the shops received and take their explanations (评价解释)."""

    def __init__(self, world: World, clock: SimClock) -> None:
        self.world = world
        self.clock = clock
        self._guard = threading.Lock()
        self._by_oid: dict[int, Explanation] = {}
        self._posted: list[Explanation] = []

    @property
    def explanations(self) -> list[Explanation]:
        """Return every explanation posted so far, oldest first."""
        with self._guard:
            return list(self._posted)

    def explanation(self, oid: int) -> Explanation | None:
        """Return the explanation posted for a rating, if any."""
        with self._guard:
            return self._by_oid.get(oid)

    def reset(self) -> None:
        """Forget every posted explanation."""
        with self._guard:
            self._by_oid.clear()
            self._posted.clear()

    def get(self, shop: Shop, params: dict[str, str]) -> dict[str, Any]:
        """Answer taobao.traderates.get: a page of ratings, newest first."""
        fields = fields_param(params)
        if fields is None:
            raise missing("fields")
        rate_type = _choice(params, "rate_type", ("get", "give"))
        role = _choice(params, "role", ("buyer", "seller"))
        wanted = params.get("result", "")
        if wanted and wanted not in RESULTS:
            raise invalid("result", f"result只能是{'/'.join(RESULTS)}")
        page_no = int_param(params, "page_no", default=1, low=1, high=10**6)
        page_size = int_param(
            params, "page_size", default=DEFAULT_PAGE_SIZE, low=1, high=MAX_PAGE_SIZE
        )
        start = optional_time_param(params, "start_date")
        end = optional_time_param(params, "end_date")
        if start and end and end < start:
            raise invalid("end_date", "结束时间不能早于开始时间")
        tid = id_param(params, "tid") if params.get("tid") else None
        now = self.clock.now()
        rates: list[Rating] = []
        # The sandbox only holds ratings buyers gave the shop (rate_type=get, role=buyer).
        if rate_type == "get" and role == "buyer":
            floor = now - RATING_LOOKBACK
            rates = self._received(shop, max(start, floor) if start else floor, end, now, tid)
        if wanted:
            rates = [r for r in rates if r.result_at(now) == wanted]
        page = rates[(page_no - 1) * page_size : page_no * page_size]
        payload: dict[str, Any] = {}
        if page:
            rendered = [self._render(r, shop, fields, now) for r in page]
            payload["trade_rates"] = {"trade_rate": rendered}
        if flag_param(params, "use_has_next"):
            payload["has_next"] = page_no * page_size < len(rates)
        else:
            payload["total_results"] = len(rates)
        return payload

    def explain(self, shop: Shop, params: dict[str, str]) -> dict[str, Any]:
        """Answer taobao.traderate.explain.add: post the shop's public reply to a rating."""
        oid = id_param(params, "oid")
        if "reply" not in params:
            raise missing("reply")
        reply = params["reply"]
        if not 1 <= len(reply) <= MAX_REPLY_CHARS:
            raise invalid("reply", f"解释内容长度必须在1到{MAX_REPLY_CHARS}个字符之间")
        now = self.clock.now()
        rating = self.world.rating(oid)
        if rating is None or rating.shop != shop.code or rating.created > now:
            raise _refused(RateWire.EXPLAIN_NOT_ALLOWED, "评价不存在")
        if now - rating.created > EXPLAIN_WINDOW:
            raise _refused(RateWire.EXPLAIN_NOT_ALLOWED, "评价已超过30天，不能再解释")
        if rating.appended_by(now):
            raise _refused(RateWire.EXPLAIN_NOT_ALLOWED, "买家已追加评论，不能再解释")
        with self._guard:
            if oid in self._by_oid:
                raise _refused(RateWire.EXPLAIN_EXISTS, "该评价已经解释过")
            posted = Explanation(oid=oid, reply=reply, at=now, shop=shop.code, tid=rating.tid)
            self._by_oid[oid] = posted
            self._posted.append(posted)
        return {"is_success": True}

    def _received(
        self, shop: Shop, start: datetime, end: datetime | None, now: datetime, tid: int | None
    ) -> list[Rating]:
        end = min(end or now, now)
        if tid is not None:
            found = [
                r
                for r in self.world.ratings_of_trade(tid)
                if r.shop == shop.code and start <= r.created <= end
            ]
            found.sort(key=lambda r: (r.created, r.oid))
        else:
            found = self.world.ratings_between(shop.code, start, end)
        return found[::-1]

    def _render(
        self, rating: Rating, shop: Shop, fields: frozenset[str], now: datetime
    ) -> dict[str, Any]:
        full: dict[str, Any] = {
            "tid": rating.tid,
            "oid": rating.oid,
            "role": "buyer",
            "nick": rating.nick,
            "result": rating.result_at(now),
            "created": china_time(rating.created),
            "rated_nick": shop.seller_nick,
            "item_title": rating.item_title,
            "item_price": rating.item_price,
            "content": rating.content_at(now),
            "valid_score": rating.valid_score,
        }
        explained = self.explanation(rating.oid)
        if explained is not None and explained.at <= now:
            full["reply"] = explained.reply
        if rating.appended_by(now):
            assert rating.append_at is not None
            full[RateWire.APPEND_CONTENT] = rating.append_content
            full[RateWire.APPEND_CREATED] = china_time(rating.append_at)
        full.update(self.world.wire_overrides.get(("rating", rating.oid), {}))
        return {k: v for k, v in full.items() if k in fields}


def _choice(params: dict[str, str], name: str, allowed: tuple[str, ...]) -> str:
    value = params.get(name, "")
    if not value:
        raise missing(name)
    if value not in allowed:
        raise invalid(name, f"{name}只能是{'/'.join(allowed)}")
    return value
