"""Message templates: load the approved texts and render them without ever evaluating input."""

from __future__ import annotations

import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources
from string import Template

# The SMS provider limits each variable's length; longer values are cut, never rejected.
MAX_PARAM_CHARS = 35


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


def clean_param(value: object) -> str:
    """Make a value safe to place in a message: no control characters, bounded length."""
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in str(value)).strip()
    return text[:MAX_PARAM_CHARS]


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
