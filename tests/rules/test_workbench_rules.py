"""The workbench's forms and rules, without a browser: outcomes, times, shops, passwords."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from aftercare.passwords import hash_password, password_problem, verify_password
from aftercare.rules.reviews import WorkingHours
from aftercare.rules.workbench import (
    CaseOutcome,
    OutcomeForm,
    after_logistics_outcome,
    outcomes_for,
    read_local_time,
    read_outcome_form,
    visible_shops,
)

SH = ZoneInfo("Asia/Shanghai")
HOURS = WorkingHours(time(9), time(18), SH)
NOW = datetime(2026, 11, 20, 13, 30, tzinfo=UTC)  # 21:30 in Beijing: after working hours


def read(kind: str, **fields: str) -> OutcomeForm | dict[str, str]:
    return read_outcome_form(kind, fields, now=NOW, zone=SH)


def test_the_agreed_time_is_the_shops_local_time_across_midnight():
    form = read("review", outcome="agreed_to_revise", next_contact="2026-11-21T00:30")
    assert isinstance(form, OutcomeForm)
    assert form.next_contact_at == datetime(2026, 11, 20, 16, 30, tzinfo=UTC)
    spaced = read("review", outcome="declined", next_contact="2026-11-21 00:30")
    assert isinstance(spaced, OutcomeForm) and spaced.next_contact_at == form.next_contact_at


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({"outcome": ""}, "outcome", "请选择"),
        ({"outcome": "resolved"}, "outcome", "请选择"),  # a logistics outcome on a review
        ({"outcome": "declined", "next_contact": "2026-11-20T21:29"}, "next_contact", "之后"),
        ({"outcome": "declined", "next_contact": "2026-02-30T10:00"}, "next_contact", "无法识别"),
        ({"outcome": "declined", "next_contact": "2026-11-21T10:00+08:00"}, "next_contact", "无法"),
        ({"outcome": "declined", "next_contact": "2026-12-21T10:00"}, "next_contact", "30 天"),
        ({"outcome": "declined", "note": "x" * 501}, "note", "500"),
        ({"outcome": "reshipped", "courier": "中通快递", "waybill": "12"}, "waybill", "6-40"),
        ({"outcome": "reshipped", "waybill": "ZT12345678"}, "courier", "快递公司"),
    ],
)
def test_a_typo_is_a_message_on_its_field(fields, field, says):
    errors = read("review", **fields)
    assert isinstance(errors, dict) and says in errors[field], errors


def test_each_kind_offers_its_own_outcomes():
    assert CaseOutcome.AGREED_TO_REVISE in outcomes_for("review")
    assert CaseOutcome.RESOLVED not in outcomes_for("review")
    assert CaseOutcome.COURIER_PUSHED in outcomes_for("stalled")
    assert CaseOutcome.AGREED_TO_REVISE not in outcomes_for("stalled")
    errors = read("stalled", outcome="resolved", note="")
    assert isinstance(errors, dict) and "怎么解决" in errors["note"]


def test_a_logistics_step_waits_for_working_hours_or_the_agreed_time():
    pushed = after_logistics_outcome(
        CaseOutcome.COURIER_PUSHED, now=NOW, agreed=None, hours=HOURS, note=""
    )
    # 21:30 on Friday in Beijing: looked at again when work starts on Saturday, 09:00.
    assert pushed.action == "check_courier_reply"
    assert pushed.at == datetime(2026, 11, 21, 1, 0, tzinfo=UTC)
    agreed = NOW + timedelta(hours=3)
    assert (
        after_logistics_outcome(
            CaseOutcome.UNREACHABLE, now=NOW, agreed=agreed, hours=HOURS, note=""
        ).at
        == agreed
    )
    closed = after_logistics_outcome(
        CaseOutcome.RESOLVED, now=NOW, agreed=None, hours=HOURS, note="买家已收到"
    )
    assert closed.close_reason == "resolved by an agent: 买家已收到" and closed.action is None


def test_shops_per_user():
    every = ["guoyuan", "mumu", "sishi", "xiaoya"]
    assert visible_shops("agent", "sishi, xiaoya", every) == ["sishi", "xiaoya"]
    assert visible_shops("agent", "", every) == [], "an agent with no shops sees none"
    assert visible_shops("agent", "gone", every) == []
    assert visible_shops("lead", "", every) == every
    assert visible_shops("lead", "mumu", every) == ["mumu"]
    assert visible_shops("admin", "mumu", every) == every


def test_passwords_are_salted_hashes():
    stored = hash_password("correct-horse-42")
    assert verify_password("correct-horse-42", stored)
    assert not verify_password("correct-horse-43", stored)
    assert stored != hash_password("correct-horse-42"), "each hash has its own salt"
    assert not verify_password("x", "md5$abc") and not verify_password("x", "garbage")
    assert password_problem("short") and not password_problem("long-enough-1")


def test_a_browser_time_without_a_zone_is_the_shops():
    assert read_local_time("2026-11-20T08:00", SH) == datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
    assert read_local_time("yesterday", SH) is None


def test_an_expired_session_opens_nothing_and_is_removed_at_the_next_sign_in(tmp_path):
    from sqlmodel import select

    from aftercare.store.workbench_users import save_user, session_user, start_session
    from models import WorkbenchSession, WorkbenchUser
    from models.db import session_scope
    from models.migrate import upgrade

    url = f"sqlite:///{tmp_path}/bench.db"
    upgrade(url)
    with session_scope(url) as session:
        save_user(
            session=session,
            username="xiaowang",
            password_hash=hash_password("p" * 12),
            role="agent",
            shops=["sishi"],
            can_reveal=False,
            display_name="",
            now=NOW,
        )
    with session_scope(url) as session:
        user = session.exec(select(WorkbenchUser)).one()
        token, _ = start_session(session=session, user_id=user.id or 0, now=NOW, hours=12)
    with session_scope(url) as session:
        assert session_user(session=session, token=token, now=NOW + timedelta(hours=11))
        assert session_user(session=session, token=token, now=NOW + timedelta(hours=12)) is None
        assert session_user(session=session, token="forged", now=NOW) is None
        start_session(
            session=session, user_id=user.id or 0, now=NOW + timedelta(hours=13), hours=12
        )
    with session_scope(url) as session:
        assert len(session.exec(select(WorkbenchSession)).all()) == 1, "the expired one is gone"
