"""The shops the team serves (three on Taobao, one on Pinduoduo) and the credentials the
sandbox accepts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Shop:
    """One Taobao shop as the sandbox models it."""

    code: str
    name: str
    seller_nick: str
    sign_name: str
    # Apps with the platform's decryption permission get full receiver phones back.
    can_decrypt_phone: bool
    sender_phone: str
    # Where the shop ships from: (province, city, district).
    warehouse: tuple[str, str, str]
    # Extension code (扩展码) of the shop's SMS signature; buyers' replies carry it as dest_code.
    sms_dest_code: str = ""
    platform: str = "taobao"


SHOPS: dict[str, Shop] = {
    "sishi": Shop(
        code="sishi",
        name="丝施品牌店",
        seller_nick="丝施品牌店",
        sign_name="丝施品牌店",
        can_decrypt_phone=True,
        sender_phone="13800000001",
        warehouse=("广东省", "广州市", "白云区"),
        sms_dest_code="1001",
    ),
    "xiaoya": Shop(
        code="xiaoya",
        name="小雅家居旗舰店",
        seller_nick="小雅家居旗舰店",
        sign_name="小雅家居",
        can_decrypt_phone=False,
        sender_phone="13800000002",
        warehouse=("浙江省", "杭州市", "萧山区"),
        sms_dest_code="1002",
    ),
    "mumu": Shop(
        code="mumu",
        name="木木童装",
        seller_nick="木木童装",
        sign_name="木木童装",
        can_decrypt_phone=True,
        sender_phone="13800000003",
        warehouse=("浙江省", "湖州市", "吴兴区"),
        sms_dest_code="1003",
    ),
}
# The shop on Pinduoduo (the second platform), kept apart: SHOPS stays the Taobao shops.
OTHER_PLATFORM_SHOPS: dict[str, Shop] = {
    # On Pinduoduo; its trades exist only when the sandbox is asked for them
    # (SandboxConfig.pinduoduo_orders_per_shop), so the Taobao world stays as it was.
    "guoyuan": Shop(
        code="guoyuan",
        name="果园鲜生",
        seller_nick="果园鲜生",
        sign_name="果园鲜生",
        # The shop's app runs in Pinduoduo's cloud, where receivers are decrypted.
        can_decrypt_phone=True,
        sender_phone="13800000004",
        warehouse=("山东省", "烟台市", "栖霞市"),
        sms_dest_code="1004",
        platform="pinduoduo",
    ),
}
ALL_SHOPS: dict[str, Shop] = {**SHOPS, **OTHER_PLATFORM_SHOPS}
TAOBAO_SHOPS = tuple(SHOPS)
PINDUODUO_SHOPS = tuple(c for c, s in OTHER_PLATFORM_SHOPS.items() if s.platform == "pinduoduo")

CREDENTIALS: dict[str, Any] = {
    "kuaidi100": {"customer": "SANDBOXCUSTOMER0001", "key": "sandbox-kuaidi100-key"},
    "pinduoduo": {
        "client_id": "sandbox-pdd-client",
        "client_secret": "sandbox-pdd-secret",
        "tokens": {"guoyuan": "sandbox-pdd-token-guoyuan"},
    },
    "taobao": {
        "app_key": "12345678",
        "app_secret": "sandbox-top-secret",
        "sessions": {
            "sishi": "sandbox-session-sishi",
            "xiaoya": "sandbox-session-xiaoya",
            "mumu": "sandbox-session-mumu",
        },
    },
    "sms": {"access_key_id": "SANDBOXSMSACCESSKEY", "access_key_secret": "sandbox-sms-secret"},
    "dingtalk": {"access_token": "sandbox-robot-token", "secret": "SECsandbox-robot-secret"},
    # The project's signing gateway in front of the SMS uplink push (see uplink.py).
    "sms_uplink": {"secret": "sandbox-uplink-secret"},
}


def shop_by_session(session: str) -> Shop | None:
    """Return the shop a TOP session belongs to, if any."""
    for code, value in CREDENTIALS["taobao"]["sessions"].items():
        if value == session:
            return SHOPS[code]
    return None


def mask_phone(phone: str) -> str:
    """Mask a phone number for logs (138****5678)."""
    if len(phone) < 8:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"
