"""Public explanations state only facts on record: a false claim cannot be rendered."""

from __future__ import annotations

import itertools

import pytest

from aftercare.rules.explanations import (
    CLAIMS,
    FACTS,
    UNRECORDED_DEEDS,
    Part,
    UntrueExplanation,
    check_part,
    parse_parts,
)
from aftercare.rules.reviews import load_causes, render_explanation

VALUES = {
    "shipped": "11月18日",
    "courier": "圆通速递",
    "delivered": "11月20日",
    "contacted": "yes",
    "compensated": "yes",
    "nothing_wrong": "yes",
}
# Every combination of facts on record, from none to all.
SUBSETS = [frozenset(c) for n in range(len(FACTS) + 1) for c in itertools.combinations(FACTS, n)]


@pytest.mark.parametrize("cause", load_causes(), ids=lambda c: c.name)
def test_no_cause_can_state_a_fact_that_is_not_on_record(cause):
    for on_record in SUBSETS:
        text = render_explanation(cause, {f: VALUES[f] for f in on_record})
        for words, fact in CLAIMS.items():
            assert words not in text or fact in on_record, (cause.name, words, sorted(on_record))
        assert not any(deed in text for deed in UNRECORDED_DEEDS), text
        if "delivered" not in on_record:
            assert "签收" not in text and "送达" not in text


@pytest.mark.parametrize("cause", load_causes(), ids=lambda c: c.name)
def test_with_every_fact_on_record_the_explanation_still_reads_whole(cause):
    text = render_explanation(cause, VALUES)
    assert text.startswith(("亲", "您好")) and text.endswith(("。", "！"))


def test_a_parcel_still_stuck_is_never_called_delivered():
    logistics = next(c for c in load_causes() if c.name == "logistics")
    text = render_explanation(logistics, {"shipped": "11月18日", "courier": "圆通速递"})
    assert "圆通速递" in text and "签收" not in text and "已送达" not in text


@pytest.mark.parametrize(
    ("part", "why"),
    [
        (Part("我们已联系您为您办理退换货。"), "已联系您"),
        (Part("您的包裹已于${delivered}签收。"), "without needing it"),
        (Part("包裹已签收。"), "签收"),
        (Part("我们已为您安排补发。", ("contacted",)), "已为您"),
        (Part("已对相关客服进行了培训。"), "培训"),
        (Part("好的", ("weather",)), "unknown facts"),
    ],
)
def test_a_part_that_could_say_something_untrue_is_refused_on_load(part, why):
    with pytest.raises(UntrueExplanation, match=why):
        check_part("test", part)


def test_a_causes_file_with_the_old_untrue_wording_is_refused():
    with pytest.raises(UntrueExplanation):
        parse_parts("quality", "亲，我们已联系您为您办理退换货，运费由本店承担。")
