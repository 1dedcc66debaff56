"""Kuaidi100 (快递100) real-time query and subscription, as the sandbox speaks them."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from .catalog import KUAIDI100_COMS
from .clock import SimClock
from .shipment import ShipmentScenario
from .shops import ALL_SHOPS, CREDENTIALS
from .stats import SandboxStats
from .timeline import TrackEvent
from .wire import Reply, Request, china_time, json_reply
from .world import World

log = logging.getLogger(__name__)

# Couriers whose query needs the receiver's (or sender's) phone number.
PHONE_REQUIRED = frozenset({"shunfeng", "zhongtong"})


@dataclass(frozen=True)
class Subscription:
    """One accepted `poll` subscription; kuaidi100_push.py pushes its updates to `callbackurl`."""

    company: str
    number: str
    callbackurl: str
    salt: str
    resultv2: str
    phone: str
    from_city: str
    to_city: str
    subscribed_at: datetime


def _fail(code: str, message: str) -> Reply:
    return json_reply({"result": False, "returnCode": code, "message": message})


class Kuaidi100:
    """Handle `/kuaidi100/poll/query.do` and `/kuaidi100/poll` over the generated world."""

    name = "kuaidi100"

    def __init__(
        self, world: World, clock: SimClock, stats: SandboxStats, *, lock_minutes: float = 30
    ) -> None:
        self.world = world
        self.clock = clock
        self.stats = stats
        self.lock_interval = timedelta(minutes=lock_minutes)
        self._lock_minutes = lock_minutes
        self._customer: str = CREDENTIALS["kuaidi100"]["customer"]
        self._key: str = CREDENTIALS["kuaidi100"]["key"]
        self._guard = threading.Lock()
        self._last_query: dict[str, datetime] = {}
        self._malformed_calls: Counter[str] = Counter()
        # The latest subscription of each (company, number); aborted ones may be renewed.
        self.subscriptions: dict[tuple[str, str], Subscription] = {}
        self._aborted: set[tuple[str, str]] = set()
        # Called with every accepted subscription (the Sandbox starts pushes from here).
        self.on_subscribe: Callable[[Subscription], None] | None = None

    def reset(self) -> None:
        """Forget query locks, malformed-answer rotation and subscriptions."""
        with self._guard:
            self._last_query.clear()
            self._malformed_calls.clear()
            self.subscriptions.clear()
            self._aborted.clear()

    def mark_aborted(self, company: str, number: str) -> None:
        """Note that monitoring of a waybill stopped (`abort`): it may be subscribed again."""
        with self._guard:
            if (company, number) in self.subscriptions:
                self._aborted.add((company, number))

    def is_aborted(self, company: str, number: str) -> bool:
        """Tell whether the waybill's latest subscription ended with an `abort` push."""
        with self._guard:
            return (company, number) in self._aborted

    def handle(self, request: Request) -> Reply:
        """Route one provider request."""
        path = request.path.rstrip("/")
        if path.endswith("/poll/query.do"):
            return self.query(request)
        if path.endswith("/autonumber/auto"):
            return self.autonumber(request)
        if path.endswith("/poll"):
            return self.subscribe(request)
        return json_reply({"result": False, "returnCode": "404", "message": "接口不存在"}, 404)

    def autonumber(self, request: Request) -> Reply:
        """Answer number recognition (智能单号识别): the couriers that know the waybill."""
        if request.params.get("key") != self._key:
            return _fail("600", "您不是合法的订阅者")
        num = (request.params.get("num") or "").strip()
        if not num:
            return _fail("400", "提交的数据不完整")
        found = [
            {"comCode": com, "lengthPre": len(num), "noPre": num[:4], "noCount": 1}
            for com in KUAIDI100_COMS
            if self.world.tracked_shipment(com, num) is not None
            or (com, num) in self.world.planted_scans
        ]
        return json_reply(found)

    def query(self, request: Request) -> Reply:
        """Answer a real-time tracking query."""
        params = request.params
        customer, param, sign = (params.get(k, "") for k in ("customer", "param", "sign"))
        if not customer or not param or not sign:
            return _fail("400", "提交的数据不完整")
        if customer != self._customer:
            return _fail("601", "POLL:KEY已过期或没有可用单量")
        expected = hashlib.md5((param + self._key + customer).encode()).hexdigest().upper()
        if not hmac.compare_digest(sign.encode(), expected.encode()):
            self.stats.count_rejected_signature(self.name)
            return _fail("503", "验证签名失败")
        try:
            query = json.loads(param)
        except ValueError:
            return _fail("400", "提交的数据不完整")
        if not isinstance(query, dict):
            return _fail("400", "提交的数据不完整")
        com = str(query.get("com") or "").strip()
        num = str(query.get("num") or "").strip()
        if com not in KUAIDI100_COMS:
            return _fail("400", "找不到对应公司")
        if not num:
            return _fail("400", "提交的数据不完整")
        self.stats.count_query(num)
        shipment = self.world.tracked_shipment(com, num)
        if com in PHONE_REQUIRED and not _phone_matches(str(query.get("phone") or ""), shipment):
            return _fail("408", "快递公司参数异常：手机号码校验未通过")
        now = self.clock.now()
        if shipment is not None and shipment.scenario == "malformed":
            return self._malformed(shipment, now)
        with self._guard:
            last = self._last_query.get(num)
            # A clock set backwards never counts as "too soon".
            if last is not None and timedelta(0) <= now - last < self.lock_interval:
                self.stats.count_lock()
                minutes = f"{self._lock_minutes:g}"
                return _fail("400", f"该单号查询过于频繁，已被锁定，请{minutes}分钟后再查")
            self._last_query[num] = now
        if shipment is not None:
            events = shipment.visible(now)
        else:  # a planted parcel (planted.py) has its scans as given, future ones too
            events = self.world.planted_scans.get((com, num), ())
        if not events:
            return _fail("500", "查询无结果，请隔段时间再查")
        resultv2 = str(query.get("resultv2") or "0")
        order = str(query.get("order") or "desc").lower()
        return json_reply(query_body(com, num, events, resultv2=resultv2, order=order))

    def subscribe(self, request: Request) -> Reply:
        """Record a push subscription; `on_subscribe` then starts its pushes."""
        raw = request.params.get("param", "")
        try:
            param = json.loads(raw) if raw else None
        except ValueError:
            param = None
        if not isinstance(param, dict):
            return _fail("700", "POLL:提交的数据不完整或格式错误")
        if not hmac.compare_digest(str(param.get("key") or "").encode(), self._key.encode()):
            self.stats.count_rejected_signature(self.name)
            return _fail("600", "您不是合法的订阅者（即授权Key出错）")
        company = str(param.get("company") or "").strip()
        number = str(param.get("number") or "").strip()
        parameters = param.get("parameters")
        parameters = parameters if isinstance(parameters, dict) else {}
        callback = str(parameters.get("callbackurl") or "").strip()
        if not number or not callback:
            return _fail("700", "POLL:提交的数据不完整，缺少单号或回调地址")
        target = urlsplit(callback)
        if target.scheme not in ("http", "https") or not target.hostname:
            return _fail("700", "POLL:回调地址格式错误")
        if company not in KUAIDI100_COMS:
            return _fail("702", "POLL:识别不到该单号对应的快递公司")
        subscription = Subscription(
            company=company,
            number=number,
            callbackurl=callback,
            salt=str(parameters.get("salt") or ""),
            resultv2=str(parameters.get("resultv2") or "0"),
            phone=str(parameters.get("phone") or ""),
            from_city=str(param.get("from") or ""),
            to_city=str(param.get("to") or ""),
            subscribed_at=self.clock.now(),
        )
        key = (company, number)
        with self._guard:
            # Duplicates are refused while monitored (or once signed); after an abort
            # Kuaidi100 expects the waybill to be subscribed again.
            if key in self.subscriptions and key not in self._aborted:
                return _fail("501", "POLL:重复订阅")
            self._aborted.discard(key)
            self.subscriptions.pop(key, None)  # the newest subscription comes last
            self.subscriptions[key] = subscription
        log.debug("kuaidi100 subscription %s %s", company, number)
        if self.on_subscribe is not None:
            self.on_subscribe(subscription)
        return json_reply({"result": True, "returnCode": "200", "message": "提交成功"})

    def busy(self, request: Request) -> Reply:
        """Answer Kuaidi100's own 'server busy, try later'."""
        return _fail("502", "服务器繁忙，请稍后再试")

    def platform_error(self, request: Request) -> Reply:
        """Answer Kuaidi100's own transient server error."""
        return _fail("502", "服务器错误，请稍后再试")

    def rate_limited(self, request: Request) -> Reply:
        """Answer the per-account query ceiling: HTTP 429 with Retry-After."""
        return json_reply(
            {"result": False, "returnCode": "429", "message": "查询过于频繁，请稍后再试"},
            status=429,
            headers={"Retry-After": "1"},
        )

    def sample_body(self, request: Request) -> dict[str, Any]:
        """Return a plausible success body, for truncation by the malformed fault."""
        try:
            query = json.loads(request.params.get("param", ""))
        except ValueError:
            query = {}
        query = query if isinstance(query, dict) else {}
        return {
            "message": "ok",
            "nu": str(query.get("num") or "YT0000000000000"),
            "ischeck": "0",
            "condition": "F00",
            "com": str(query.get("com") or "yuantong"),
            "status": "200",
            "state": "0",
            "data": [
                {"time": "2026-11-20 10:04:11", "context": "【杭州市】快件已经到达【杭州转运中心】"}
            ],
        }

    def _malformed(self, shipment: ShipmentScenario, now: datetime) -> Reply:
        """Answer a 'malformed' waybill with a broken body, cycling through four defects."""
        with self._guard:
            variant = self._malformed_calls[shipment.waybill] % 4
            self._malformed_calls[shipment.waybill] += 1
        events = shipment.visible(now) or shipment.events
        body = query_body(shipment.com, shipment.waybill, events, resultv2="1", order="desc")
        if variant == 0:
            text = json.dumps(body, ensure_ascii=False)
            return Reply(body=text[: len(text) * 3 // 5].encode())
        if variant == 1:
            body["data"] = {"item": body["data"]}
        elif variant == 2:
            body["state"] = "在途"  # a state must be a number
        else:
            for item in body["data"]:
                item["time"] = item["ftime"] = "2026年11月20日 上午10:04"
        return json_reply(body)


def _phone_matches(phone: str, shipment: ShipmentScenario | None) -> bool:
    """Accept the receiver's or the shop's phone, in full or as its last 4 digits."""
    phone = phone.strip()
    if not phone:
        return False
    if shipment is None:
        return True  # nothing to check against; the query will find no record anyway
    candidates = (shipment.receiver_phone, ALL_SHOPS[shipment.shop].sender_phone)
    return any(phone in (full, full[-4:]) for full in candidates)


def query_body(
    com: str, num: str, events: tuple[TrackEvent, ...], *, resultv2: str, order: str
) -> dict[str, Any]:
    """Return the real-time query's success body for `events` (also a push's lastResult)."""
    detailed = resultv2 not in ("", "0")
    data = []
    for event in events if order == "asc" else reversed(events):
        stamp = china_time(event.time)
        item: dict[str, Any] = {
            "time": stamp,
            "ftime": stamp,
            "context": event.context,
            "status": event.status_word,
        }
        if detailed:
            item["areaCode"] = event.area_code
            item["areaName"] = event.area_name
            item["statusCode"] = event.status_code
        data.append(item)
    state = events[-1].state
    return {
        "message": "ok",
        "nu": num,
        "ischeck": "1" if state in (3, 4) else "0",
        "condition": "F00",
        "com": com,
        "status": "200",
        "state": str(state),
        "data": data,
    }
