"""Message templates: load the approved texts and render them without ever evaluating input."""

from __future__ import annotations

import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources
from string import Template

# The SMS provider limits each variable's length; longer values are cut, never rejected. Counted
# in UTF-16 units, as the provider's platform may count them, so an emoji never tips it over.
MAX_PARAM_CHARS = 35
# Not for a customer's eyes: control, format, surrogate, private-use and unassigned characters,
# and the line/paragraph separators that would break a message's lines.
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


@dataclass(frozen=True, slots=True)
class MessageTemplate:
    """An approved template: provider code, consent kind and the text the customer reads."""

    name: str
    code: str
    kind: str
    text: str

    @property
    def variables(self) -> frozenset[str]:
        """Return the ${name} variables the text uses."""
        return frozenset(
            m.group("braced") or m.group("named")
            for m in Template.pattern.finditer(self.text)
            if m.group("braced") or m.group("named")
        )


@cache
def load_templates() -> dict[str, MessageTemplate]:
    """Load every approved SMS template, by name."""
    raw = tomllib.loads(resources.files("aftercare").joinpath("templates/sms.toml").read_text())
    return {name: MessageTemplate(name, t["code"], t["kind"], t["text"]) for name, t in raw.items()}


def visible(text: str) -> str:
    """Return text with every hidden character (see _HIDDEN) replaced by a space."""
    return "".join(" " if unicodedata.category(ch) in _HIDDEN else ch for ch in text)


def cut(text: str, limit: int) -> str:
    """Return the longest start of text at most limit UTF-16 units long (emoji count two)."""
    units = 0
    for index, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            return text[:index]
    return text


def clean_text(value: object, limit: int) -> str:
    """Make a value safe to place in a customer's text: visible characters, at most limit long.

    The same as cut(visible(str(value)).strip(), limit).rstrip(), reading only what it keeps.
    """
    kept: list[str] = []
    units = 0
    for ch in str(value):
        if unicodedata.category(ch) in _HIDDEN:
            ch = " "
        if not kept and ch.isspace():
            continue
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            break
        kept.append(ch)
    return "".join(kept).rstrip()


def clean_param(value: object) -> str:
    """Make a value safe to place in a message: no control characters, bounded length."""
    return clean_text(value, MAX_PARAM_CHARS)


def render(name: str, params: dict[str, object]) -> tuple[MessageTemplate, dict[str, str], str]:
    """Return the template, the cleaned parameters and the text the customer will read.

    Values are substituted once and never parsed again, so a buyer-supplied '${x}' or '{{x}}'
    stays literal text.
    """
    template = load_templates()[name]
    clean = {key: clean_param(params[key]) for key in template.variables}
    return template, clean, Template(template.text).substitute(clean)


def for_shop(name: str, shop_code: str) -> str:
    """Return the shop's own variant of a template ("name@shop") if it has one, else name."""
    variant = f"{name}@{shop_code}"
    return variant if variant in load_templates() else name


# One SMS carries 70 characters; a longer one is split into parts of 67 (the rest is the
# header that joins them), each billed as one message.
SINGLE_SMS_CHARS = 70
PART_SMS_CHARS = 67


def sms_segments(text: str) -> int:
    """Return how many billed messages a text takes, counted in UTF-16 units as carriers do."""
    units = len(text.encode("utf-16-le")) // 2
    if units <= SINGLE_SMS_CHARS:
        return 1
    return -(-units // PART_SMS_CHARS)
