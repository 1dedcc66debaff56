"""`taobao.top.oaid.decrypt`: the number behind an OAID, for a scene the seller states.

`query_list` is a JSON list of at most 20 {oaid, tid, scene}; each answer in `receiver_list`
names its oaid and tid with `mobile` (masked name and address are left out: scenes 2001
after-sales and 2002 customer care return only the phone). A query whose OAID does not
belong to the shop's trade is answered `matched: false`. A shop has a daily quota of
decrypted OAIDs; past it the call fails. Where the platform protects privacy it answers a
virtual number with an extension (`privacy_protection: true`), which cannot take an SMS.
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from collections.abc import Callable
from datetime import date
from typing import Any

from .shops import Shop
from .top import TopError, invalid, missing

SCENES = {"1001", "1002", "1003", "1004", "1005", "1006", "1007", "2001", "2002"}
MAX_QUERIES = 20
QUOTA_CODE = "isv.oaid-decrypt-quota-exceeded"


class OaidDecryption:
    """The decryption service, counting each shop's decryptions per day."""

    def __init__(
        self,
        phone_of: Callable[[Shop, str], str | None],
        today: Callable[[], date],
        *,
        daily_quota: int,
        virtual_rate: float = 0.0,
        seed: int = 0,
    ) -> None:
        self.phone_of = phone_of
        self.today = today
        self.daily_quota = daily_quota
        self.virtual_rate = virtual_rate
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self.used: Counter[tuple[str, date]] = Counter()
        self.calls = 0

    def decrypt(self, shop: Shop, params: dict[str, str]) -> dict[str, Any]:
        """Handle one `taobao.top.oaid.decrypt` call."""
        raw = params.get("query_list", "")
        if not raw:
            raise missing("query_list")
        try:
            queries = json.loads(raw)
            if not isinstance(queries, list) or not all(isinstance(q, dict) for q in queries):
                raise ValueError
        except ValueError:
            raise invalid("query_list", "query_list不是合法的JSON数组") from None
        if not 1 <= len(queries) <= MAX_QUERIES:
            raise invalid("query_list", f"一次最多解密{MAX_QUERIES}个OAID")
        for query in queries:
            if str(query.get("scene", "")) not in SCENES:
                raise invalid("query_list.scene", "解密场景不合法")
            if not query.get("oaid") or not query.get("tid"):
                raise missing("query_list.oaid/tid")
        with self._lock:
            key = (shop.code, self.today())
            if self.used[key] + len(queries) > self.daily_quota:
                raise TopError(15, "Remote service error", QUOTA_CODE, "今日解密额度已用完")
            self.used[key] += len(queries)
            self.calls += 1
            receivers = [self._answer(shop, query) for query in queries]
        return {"receiver_list": {"receiver": receivers}}

    def _answer(self, shop: Shop, query: dict[str, Any]) -> dict[str, Any]:
        oaid, tid = str(query["oaid"]), str(query["tid"])
        phone = self.phone_of(shop, oaid)
        if phone is None:
            return {"oaid": oaid, "tid": tid, "matched": False}
        if self._random.random() < self.virtual_rate:
            virtual = f"170{self._random.randrange(10**8):08d}-{self._random.randrange(10**4):04d}"
            return {"oaid": oaid, "tid": tid, "mobile": virtual, "matched": True,
                    "privacy_protection": True}  # fmt: skip
        return {"oaid": oaid, "tid": tid, "mobile": phone, "matched": True}
