"""Which Kuaidi100 courier code a platform's courier name stands for."""

from __future__ import annotations

import re

# Platform names (and common variants) -> Kuaidi100 `com` codes.
KUAIDI100_CODES: dict[str, str] = {
    "圆通速递": "yuantong",
    "圆通快递": "yuantong",
    "圆通": "yuantong",
    "YTO": "yuantong",
    "中通快递": "zhongtong",
    "中通": "zhongtong",
    "ZTO": "zhongtong",
    "顺丰速运": "shunfeng",
    "顺丰快递": "shunfeng",
    "顺丰": "shunfeng",
    "SF": "shunfeng",
    "韵达快递": "yunda",
    "韵达": "yunda",
    "YUNDA": "yunda",
    "EMS": "ems",
    "邮政EMS": "ems",
    "中国邮政EMS": "ems",
    "申通快递": "shentong",
    "申通": "shentong",
    "STO": "shentong",
    "极兔速递": "jtexpress",
    "极兔": "jtexpress",
}
COURIER_NAMES: dict[str, str] = {
    "yuantong": "圆通速递",
    "zhongtong": "中通快递",
    "shunfeng": "顺丰速运",
    "yunda": "韵达快递",
    "ems": "EMS",
    "shentong": "申通快递",
    "jtexpress": "极兔速递",
}


def courier_code(platform_name: str | None) -> str | None:
    """Return the Kuaidi100 code for a platform courier name, or None when unknown."""
    if not platform_name:
        return None
    name = platform_name.strip()
    return KUAIDI100_CODES.get(name) or KUAIDI100_CODES.get(name.upper())


# What couriers print on a waybill: letters and digits (a few add dashes), never blanks or prose.
_WAYBILL = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{4,38}[A-Za-z0-9]")


def waybill_problem(waybill: str) -> str:
    """Return why a number cannot be a courier's waybill ('' when it may be one)."""
    if _WAYBILL.fullmatch(waybill):
        return ""
    return (
        f"waybill {waybill[:40]!r} is not a tracking number (6-40 letters, digits, dashes): "
        "parcel not tracked; correct the number in the shop backend"
    )
