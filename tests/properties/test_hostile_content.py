"""Buyer-supplied text in messages, explanations, masks and rules: literal, clean, bounded."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import example, given, settings
from hypothesis import strategies as st

from aftercare.privacy import mask_name, mask_phone, redact
from aftercare.rules.explanations import EXPLANATION_LIMIT, FACT_CHARS
from aftercare.rules.reviews import (
    OrderFacts,
    classify,
    load_causes,
    render_explanation,
)
from aftercare.templates import MAX_PARAM_CHARS, clean_text, load_templates, render

from .strategies import FORBIDDEN, good_mobiles, has_control, hostile_text

SETTINGS = settings(max_examples=200, deadline=None)
PLACEHOLDER = re.compile(r"\$\{(\w+)\}")
TEMPLATES = sorted(load_templates())
CAUSES = load_causes()


def visible(text: str) -> str:
    """The text with every control or line-separator character turned into a space."""
    return "".join(" " if unicodedata.category(ch) in FORBIDDEN else ch for ch in text)


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def check_render(name: str, params: dict[str, object]) -> None:
    template = load_templates()[name]
    approved, clean, text = render(name, params)
    assert approved is template and set(clean) == template.variables
    for variable, value in clean.items():
        assert utf16_units(value) <= MAX_PARAM_CHARS, "the provider's per-variable limit"
        assert not has_control(value)
        assert value in visible(str(params[variable])), "a cut of the buyer's own text"
    # One pass over the approved text: injected ${x}, {{x}}, %s, {0} stay literal.
    expected = PLACEHOLDER.sub(lambda m: clean[m[1]], template.text)
    assert text == expected
    assert not has_control(text)


@SETTINGS
@given(name=st.sampled_from(TEMPLATES), data=st.data())
def test_rendered_sms_substitutes_once_and_stays_clean(name: str, data: st.DataObject) -> None:
    variables = sorted(load_templates()[name].variables)
    check_render(name, {v: data.draw(hostile_text(), label=v) for v in variables})


def test_a_value_naming_another_variable_stays_literal() -> None:
    for name, template in load_templates().items():
        others = sorted(template.variables)
        params: dict[str, object] = {
            v: "${" + others[(i + 1) % len(others)] + "}\x00😀" for i, v in enumerate(others)
        }
        check_render(name, params)


facts_values = st.one_of(
    hostile_text(), st.sampled_from(["圆通速递", "11月20日", "已于11月22日签收"])
)


@SETTINGS
@given(
    cause=st.sampled_from(CAUSES),
    courier=facts_values,
    shipped=facts_values,
    delivered=facts_values,
    extra=st.dictionaries(st.text(max_size=8), hostile_text(max_repeat=2), max_size=3),
)
@example(
    cause=next(c for c in CAUSES if c.name == "logistics"),
    courier="${shipped}\x00\u2028<script>",
    shipped="{{7*7}}%s{0}",
    delivered="$delivered" + "长" * 600,
    extra={},
)
def test_explanation_is_literal_clean_and_within_the_limit(
    cause, courier: str, shipped: str, delivered: str, extra: dict[str, str]
) -> None:
    facts = {**extra, "courier": courier, "shipped": shipped, "delivered": delivered}
    text = render_explanation(cause, facts)
    assert len(text) <= EXPLANATION_LIMIT and utf16_units(text) <= EXPLANATION_LIMIT
    assert not has_control(text)
    # The shop's wording is kept whole and each fact appears once, as (a cut of) its own text;
    # a part is said only when every fact it needs is there.
    said = "".join(
        part.text
        for part in cause.explanation
        if all(clean_text(facts.get(n, ""), FACT_CHARS) for n in part.needs)
    )
    literals = PLACEHOLDER.split(said)[0::2]
    names = PLACEHOLDER.findall(said)
    pattern = "(.*?)".join(re.escape(visible(part)) for part in literals)
    match = re.fullmatch(pattern, text, flags=re.DOTALL)
    assert match, "the approved text survives around the facts"
    for name, value in zip(names, match.groups(), strict=True):
        assert value in visible(facts[name])


texts = st.one_of(hostile_text(), st.text())


@SETTINGS
@given(text=texts)
@example(text="差" * 100_000)
@example(text="\ud800" * 10)
def test_classify_never_raises(text: str) -> None:
    for facts in (OrderFacts(False, False), OrderFacts(True, True)):
        assert classify(text, facts, CAUSES) in CAUSES


MOBILE_RUN = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def digits(text: str) -> str:
    """The text's digits in ASCII, whatever their script, with everything else removed."""
    return "".join(
        str(unicodedata.decimal(ch)) for ch in text if unicodedata.decimal(ch, None) is not None
    )


mobile_formats = st.sampled_from(
    [
        "{m}",
        "+86{m}",
        "+86 {m}",
        "86{m}",
        "0086{m}",
        "+86-{m}",
        "{a} {b} {c}",
        "{a}-{b}-{c}",
        "+86 {a} {b} {c}",
        "{fw}",
        "tel:{m};",
        "派件员{m}为您派件",
    ]
)
no_digits = hostile_text(max_repeat=3).map(lambda t: "".join(c for c in t if not c.isdecimal()))


@SETTINGS
@given(mobile=good_mobiles, fmt=mobile_formats, before=no_digits, after=no_digits)
@example(mobile="13812345678", fmt="+86{m}", before="", after="")
@example(mobile="13812345678", fmt="{a} {b} {c}", before="电话", after="")
def test_redact_leaves_no_mobile_whatever_its_format(
    mobile: str, fmt: str, before: str, after: str
) -> None:
    written = fmt.format(
        m=mobile,
        a=mobile[:3],
        b=mobile[3:7],
        c=mobile[7:],
        fw=mobile.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
    )
    out = redact(before + written + after)
    assert mobile not in digits(out)
    assert mobile[-4:] in digits(out), "the last four digits stay, to tell buyers apart"
    assert redact(out) == out


@SETTINGS
@given(text=texts)
@example(text="订单 41234567890123456 电话13812345678")
def test_redact_never_raises_and_leaves_no_standalone_mobile(text: str) -> None:
    out = redact(text)
    assert not MOBILE_RUN.search(out)
    assert redact(out) == out


@SETTINGS
@given(value=st.one_of(texts, good_mobiles, st.none()), mobile=good_mobiles)
def test_masks_never_raise_and_never_show_a_mobile(value: str | None, mobile: str) -> None:
    for masked in (mask_phone(value), mask_name(value), mask_phone(mobile), mask_name(mobile)):
        assert isinstance(masked, str)
        assert not re.search(r"\d{5}", digits_kept(masked))
    assert mask_phone(mobile) == f"{mobile[:3]}****{mobile[-4:]}"


def digits_kept(text: str) -> str:
    """Digits in ASCII, other characters kept, so runs of digits can be measured."""
    return "".join(
        str(unicodedata.decimal(ch)) if unicodedata.decimal(ch, None) is not None else ch
        for ch in text
    )
