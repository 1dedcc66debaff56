"""SMS by OAID through the platform (聚石塔): the seller texts a buyer it cannot see.

`taobao.jst.sms.oaid.message.send` takes one request object: the buyer's `oaid` (from the
trade), the order id, the signature and template and their parameters; the platform finds
the number. Nothing in the answer or elsewhere lets a seller ask later whether a message
went out: a lost answer cannot be settled by a lookup.
"""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Any

from .shops import Shop
from .sms import AliyunSms
from .top import TopError, invalid, missing
from .world import Buyer, World


def oaid_of(buyer: Buyer, shop: Shop) -> str:
    """The buyer's OAID as one shop's app sees it (different per shop, stable)."""
    digest = hashlib.sha256(f"oaid|{shop.code}|{buyer.uid}".encode()).hexdigest()
    # Letters only: an opaque id, and never a run of digits a phone scan would mistake.
    return "O" + "".join("ABCDEFGHJKLMNPQR"[int(c, 16)] for c in digest[:39])


class OaidSms:
    """The platform's SMS-by-OAID gateway, delivering into the SMS provider's records."""

    def __init__(self, world: World, sms: AliyunSms) -> None:
        self.world = world
        self.sms = sms
        self._phones: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()
        self.sent_by_oaid = 0

    def send(self, shop: Shop, params: dict[str, str]) -> dict[str, Any]:
        """Handle one `taobao.jst.sms.oaid.message.send` call."""
        raw = params.get("param_send_message_by_o_a_i_d_request", "")
        if not raw:
            raise missing("param_send_message_by_o_a_i_d_request")
        try:
            request = json.loads(raw)
            if not isinstance(request, dict):
                raise ValueError
            values = json.loads(request.get("params") or "{}")
            if not isinstance(values, dict):
                raise ValueError
        except ValueError:
            raise invalid("param_send_message_by_o_a_i_d_request", "参数不是合法的JSON") from None
        for name in ("oaid", "sms_free_sign_name", "template_code"):
            if not request.get(name):
                raise missing(f"param_send_message_by_o_a_i_d_request.{name}")
        phone = self.phone_of(shop, str(request["oaid"]))
        if phone is None:
            raise TopError(15, "Remote service error", "isv.oaid-invalid", "OAID无效或不属于该商家")
        try:
            self.sms.deliver(
                phone,
                str(request["sms_free_sign_name"]),
                str(request["template_code"]),
                {str(k): str(v) for k, v in values.items()},
                str(request.get("extend") or ""),
            )
        except ValueError as error:
            code, _, message = str(error).partition(": ")
            raise TopError(15, "Remote service error", code, message) from None
        self.sent_by_oaid += 1
        return {"module": "", "req_id": f"jst-{self.sent_by_oaid}"}

    def phone_of(self, shop: Shop, oaid: str) -> str | None:
        """The number behind an OAID of one shop's buyers (built once per shop)."""
        with self._lock:
            if not any(key[0] == shop.code for key in self._phones):
                for trade in self.world.trades_of(shop.code):
                    self._phones[(shop.code, oaid_of(trade.buyer, shop))] = trade.buyer.phone
            return self._phones.get((shop.code, oaid))
