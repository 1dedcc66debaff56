"""One reminder per buyer and per phone per day, enforced by the database on both engines."""

from datetime import UTC, date, datetime

from sqlmodel import select

from aftercare.store.reminders import subject, take_contact_slots
from models import ContactSlot
from models.db import session_scope

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
DAY = date(2026, 11, 20)


def take(url, key, nick, phone, day=DAY):
    with session_scope(url) as session:
        return take_contact_slots(
            session=session,
            subjects=[subject("nick", nick), subject("phone", phone)],
            day=day,
            key=key,
            now=NOW,
        )


def test_second_reminder_the_same_day_is_refused_by_buyer_or_by_phone(database_url):
    assert take(database_url, "a", "小鱼儿", "13800000001")
    assert not take(database_url, "b", "小鱼儿", "13800000002"), "same buyer, other shop"
    assert not take(database_url, "c", "别人", "13800000001"), "same phone, other buyer"
    assert take(database_url, "d", "小鱼儿", "13800000001", day=date(2026, 11, 21))


def test_slots_are_taken_all_or_none(database_url):
    assert take(database_url, "a", "甲", "13800000001")
    assert not take(database_url, "b", "乙", "13800000001")  # nick free, phone taken
    with session_scope(database_url) as session:
        holders = {s.taken_by for s in session.exec(select(ContactSlot))}
    assert holders == {"a"}, "the refused message kept no slot"
    assert take(database_url, "c", "乙", "13800000003")


def test_slots_store_no_personal_data(database_url):
    take(database_url, "a", "小鱼儿", "13800000001")
    with session_scope(database_url) as session:
        subjects = [s.subject for s in session.exec(select(ContactSlot))]
    assert all("1380" not in s and "小鱼儿" not in s for s in subjects)
