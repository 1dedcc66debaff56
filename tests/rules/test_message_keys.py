"""One key per message the buyer should get once; no key carries personal data."""

import inspect

import pytest

from aftercare.rules import message_keys as keys

KINDS = [
    (
        keys.logistics_notice,
        ("s", "中通快递", "ZT1", "stalled", "minor"),
        "logistics:s:中通快递:ZT1:stalled:minor",
    ),
    (keys.unpaid_reminder, ("s", "4001", "automatic"), "unpaid:s:4001:automatic"),
    (keys.review_first_contact, ("s", "9001"), "review:s:9001:first-contact"),
    (
        keys.review_followup,
        ("s", "9001", "revision_reminder", 2),
        "review:s:9001:revision_reminder:2",
    ),
    (keys.order_care, ("s", "4001", "shipped"), "care:s:4001:shipped"),
    (keys.birthday_greeting, ("s", 17, 2026), "care:s:member-17:birthday:2026"),
    (keys.holiday_greeting, ("s", 17, "春节", 2027), "care:s:member-17:holiday:春节:2027"),
    (keys.new_product_preview, ("s", 17, "spring"), "care:s:member-17:new_product:spring"),
    (keys.refund_opened, ("s", "9100000001"), "refund:s:9100000001:opened"),
    (keys.reship, ("s", "中通快递", "ZT2"), "reship:s:中通快递:ZT2:sent"),
]


@pytest.mark.parametrize(("kind", "args", "key"), KINDS, ids=lambda v: getattr(v, "__name__", ""))
def test_each_kind_of_message_has_its_key(kind, args, key):
    assert kind(*args) == key


def test_every_kind_is_in_the_table_and_names_no_buyer():
    defined = {
        f
        for name, f in inspect.getmembers(keys, inspect.isfunction)
        if f.__module__ == keys.__name__
    }
    assert defined == {kind for kind, _, _ in KINDS}
    for kind in defined:
        names = set(inspect.signature(kind).parameters)
        assert not names & {"nick", "buyer", "buyer_nick", "buyer_id", "phone", "name"}, kind


def test_keys_of_different_kinds_never_meet():
    made = [kind(*args) for kind, args, _ in KINDS]
    assert len(set(made)) == len(made)
    # logistics, unpaid, review, care, refund, reship
    assert len({key.split(":")[0] for key in made}) == 6
