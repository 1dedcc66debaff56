"""Public review explanations built only from facts on record: each claim needs its fact."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from string import Template
from typing import Any

from aftercare.clock import CHINA
from aftercare.templates import clean_text, cut, visible

EXPLANATION_LIMIT = 500  # characters taobao.traderate.explain.add accepts
FACT_CHARS = 60  # an order fact (courier, a date) is short; a longer one is cut

# The facts an explanation may state, each taken from the case's own record:
#   shipped, courier  the parcel's ship date and courier (its shipment)
#   delivered         the date the courier reported it signed for (status delivered)
#   contacted         an agent reached the buyer (a recorded call outcome, not "unreachable")
#   compensated       the buyer accepted the shop's compensation (recorded outcome)
#   nothing_wrong     delivered, and no other after-sales case on the order
FACTS = ("shipped", "courier", "delivered", "contacted", "compensated", "nothing_wrong")
# Words that state one of those facts: a part saying them must name the fact in `needs`.
CLAIMS: dict[str, str] = {
    "发出": "shipped",
    "发货": "shipped",
    "签收": "delivered",
    "送达": "delivered",
    "已与您联系": "contacted",
    "已联系您": "contacted",
    "沟通过": "contacted",
    "补偿": "compensated",
    "均无异常": "nothing_wrong",
}
# Past-tense deeds nobody records ("已为您办理", "已培训", "已反馈"): never stated in public.
UNRECORDED_DEEDS = (
    "已为您",
    "已经为您",
    "已安排",
    "已办理",
    "已反馈",
    "已将",
    "培训",
    "已复查",
    "已加强",
)
_PLACEHOLDER = re.compile(r"\$\{(\w+)\}")


class UntrueExplanation(ValueError):
    """An explanation part that could state something not on record."""


@dataclass(frozen=True, slots=True)
class Part:
    """One sentence of an explanation, said only when every fact it needs is on record."""

    text: str
    needs: tuple[str, ...] = ()


def parse_parts(cause: str, raw: Any) -> tuple[Part, ...]:
    """Read a cause's explanation (text or a list of {text, needs}), refusing untrue parts."""
    items = [raw] if isinstance(raw, str) else list(raw)
    parts = []
    for item in items:
        part = (
            Part(item)
            if isinstance(item, str)
            else Part(item["text"], tuple(item.get("needs", ())))
        )
        check_part(cause, part)
        parts.append(part)
    return tuple(parts)


def check_part(cause: str, part: Part) -> None:
    """Refuse a part that states a fact it does not need, or a deed nobody records."""
    unknown = set(part.needs) - set(FACTS)
    if unknown:
        raise UntrueExplanation(f"{cause}: unknown facts {sorted(unknown)}")
    for name in _PLACEHOLDER.findall(part.text):
        if name not in part.needs:
            raise UntrueExplanation(f"{cause}: '{part.text}' cites ${{{name}}} without needing it")
    for words, fact in CLAIMS.items():
        if words in part.text and fact not in part.needs:
            raise UntrueExplanation(f"{cause}: '{part.text}' says {words} without needing {fact}")
    for deed in UNRECORDED_DEEDS:
        if deed in part.text:
            raise UntrueExplanation(f"{cause}: '{part.text}' claims {deed}, which nobody records")


def render(parts: tuple[Part, ...], facts: dict[str, str]) -> str:
    """Join the parts whose facts are all on record, with the facts filled in.

    Facts are cleaned (no control characters, bounded) and substituted once, so a fact reading
    '${x}' stays literal; the whole text is cut to the limit in UTF-16 units.
    """
    clean = {key: clean_text(value, FACT_CHARS) for key, value in facts.items() if value}
    said = [
        Template(part.text).safe_substitute(clean)
        for part in parts
        if all(clean.get(fact) for fact in part.needs)
    ]
    return cut(visible("".join(said)), EXPLANATION_LIMIT)


def word_facts(facts: dict[str, object]) -> dict[str, str]:
    """Word the facts on record; a fact not on record is left out, and so is what cites it."""
    shipped, delivered = facts.get("shipped_at"), facts.get("delivered_at")
    worded = {
        "courier": str(facts.get("courier") or ""),
        "shipped": f"{shipped.astimezone(CHINA):%m月%d日}" if isinstance(shipped, datetime) else "",
        "delivered": f"{delivered.astimezone(CHINA):%m月%d日}"
        if isinstance(delivered, datetime)
        else "",
    }
    for flag in ("contacted", "compensated", "nothing_wrong"):
        worded[flag] = "yes" if facts.get(flag) else ""
    return {name: value for name, value in worded.items() if value}
