"""Handing one outbox message to the channel it was routed to."""

from __future__ import annotations

from aftercare.clients.errors import AuthenticationError
from aftercare.clients.sms import SmsClient
from aftercare.clients.taobao import TaobaoClient
from aftercare.decryption import OPTED_OUT, PhoneBook
from aftercare.rules.dispatch import Hold
from aftercare.rules.notices import IM_HANDOFF, OAID_SMS, REFUND_MESSAGE
from aftercare.shop_context import ShopContext, ShopNotAuthorised
from aftercare.store.outbox import out_id, params
from models import OutboxMessage

# The provider id of a text sent to a decrypted number says so (the number is not kept), and
# of a message left on the buyer's refund.
DECRYPTED = "decrypted:"
ON_REFUND = "refund-message:"


def send_message(
    message: OutboxMessage,
    *,
    sign_name: str,
    tid: str | None,
    shop: ShopContext,
    sms: SmsClient,
    taobao: TaobaoClient,
    phones: PhoneBook | None = None,
) -> str | Hold:
    """Send by the message's channel; return the provider's id, or why it does not leave.

    A message addressed by OAID takes the shop's routes in order: the platform's SMS by
    OAID, the number decrypted for this send, or a message on the buyer's open refund.
    Failures raise ProviderError.
    """
    if message.channel != OAID_SMS:
        return sms.send(
            phone=message.phone or "",
            sign_name=sign_name,
            template_code=message.template_code,
            params=params(message),
            out_id=out_id(message),
        )
    tried: list[str] = []
    for route in shop.routes_for(message.purpose):
        if route == OAID_SMS:
            return _by_oaid(message, sign_name=sign_name, tid=tid, shop=shop, taobao=taobao)
        if route == REFUND_MESSAGE:
            refund_id = phones.refund_for(message) if phones is not None else None
            if refund_id is None:
                tried.append("no open refund on the order")
                continue
            said = taobao.add_refund_message(_session(shop), refund_id, message.text)
            return ON_REFUND + said
        number = phones.number(message) if phones is not None else None
        if number is not None:
            biz_id = sms.send(
                phone=number,
                sign_name=sign_name,
                template_code=message.template_code,
                params=params(message),
                out_id=out_id(message),
            )
            return DECRYPTED + biz_id
        why = phones.why_not(message) if phones is not None else "no decryption in this run"
        if why == OPTED_OUT:  # never around the opt-out by another route
            return Hold("suppressed_opted_out", reason=OPTED_OUT)
        tried.append(why)
    said = "; ".join(tried) or "the shop has no route to masked buyers for this message"
    return Hold("suppressed_no_route", reason=f"no route reached the buyer ({said}): {IM_HANDOFF}")


def _by_oaid(
    message: OutboxMessage, *, sign_name: str, tid: str | None, shop: ShopContext,
    taobao: TaobaoClient,
) -> str:  # fmt: skip
    return taobao.send_sms_by_oaid(
        _session(shop),
        oaid=message.oaid or "",
        order_id=tid or "",
        sign_name=sign_name,
        template_code=message.template_code,
        params=params(message),
        out_id=out_id(message),
    )


def _session(shop: ShopContext) -> str:
    try:
        return shop.session_key()
    except ShopNotAuthorised as error:
        # Our configuration, not the message: it goes out once the key is set.
        raise AuthenticationError(str(error), provider="taobao") from None
