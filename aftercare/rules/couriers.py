"""Which Kuaidi100 courier code a platform's courier name stands for."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from functools import cache
from importlib import resources


@cache
def _table() -> tuple[dict[str, str], dict[str, str]]:
    """Read couriers.toml: (folded name -> code, code -> display name)."""
    raw = tomllib.loads(
        resources.files("aftercare").joinpath("rules/couriers.toml").read_text("utf-8")
    )
    codes: dict[str, str] = {}
    names: dict[str, str] = {}
    for code, entry in raw.items():
        names[code] = entry["name"]
        for name in (entry["name"], *entry.get("aliases", ()), code):
            codes[_fold(name)] = code
    return codes, names


def _fold(name: str) -> str:
    """Fold full-width letters, spaces and case: shops write one courier many ways."""
    return "".join(unicodedata.normalize("NFKC", name).split()).upper()


def courier_code(platform_name: str | None) -> str | None:
    """Return the Kuaidi100 code for a platform courier name, or None when unknown."""
    if not platform_name or not platform_name.strip():
        return None
    return _table()[0].get(_fold(platform_name))


def courier_name(code: str) -> str:
    """Return the name buyers know a courier by (the code itself when unknown)."""
    return _table()[1].get(code, code)


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
