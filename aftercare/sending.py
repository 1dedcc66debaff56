"""Handing one outbox message to the channel it was routed to."""

from __future__ import annotations

from aftercare.clients.errors import AuthenticationError
from aftercare.clients.sms import SmsClient
from aftercare.clients.taobao import TaobaoClient
from aftercare.rules.notices import OAID_SMS
from aftercare.shop_context import ShopContext, ShopNotAuthorised
from aftercare.store.outbox import out_id, params
from models import OutboxMessage


def send_message(
    message: OutboxMessage,
    *,
    sign_name: str,
    tid: str | None,
    shop: ShopContext,
    sms: SmsClient,
    taobao: TaobaoClient,
) -> str | None:
    """Send by the message's channel; return the provider's id. Failures raise ProviderError."""
    if message.channel == OAID_SMS:
        try:
            session = shop.session_key()
        except ShopNotAuthorised as error:
            # Our configuration, not the message: it goes out once the key is set.
            raise AuthenticationError(str(error), provider="taobao") from None
        return taobao.send_sms_by_oaid(
            session,
            oaid=message.oaid or "",
            order_id=tid or "",
            sign_name=sign_name,
            template_code=message.template_code,
            params=params(message),
            out_id=out_id(message),
        )
    return sms.send(
        phone=message.phone or "",
        sign_name=sign_name,
        template_code=message.template_code,
        params=params(message),
        out_id=out_id(message),
    )
