"""The workbench over plain HTTP: sign-in, CSRF, shops per user, roles, the reveal's audit,
bad input refused with a clear message and nothing half-written."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import col, func, select

from aftercare.clock import CHINA
from models import (
    AfterSalesCase,
    CaseEvent,
    Order,
    PhoneReveal,
    Refund,
    RefundAction,
    Shop,
    WorkbenchUser,
)
from models.db import session_scope
from tests.conftest import ANCHOR
from tests.workbench.conftest import PASSWORD, Bench, Client, signed_in


def case_of(bench: Bench, shop: str, *, review: bool | None = None) -> int:
    with session_scope(bench.settings.database_url) as session:
        query = (
            select(AfterSalesCase.id)
            .join(Shop, col(Shop.id) == AfterSalesCase.shop_id)
            .where(Shop.code == shop, AfterSalesCase.state == "open")
            .order_by(col(AfterSalesCase.id))
        )
        if review is not None:
            kind = col(AfterSalesCase.kind) == "review"
            query = query.where(kind if review else ~kind)
        found = session.exec(query).first()
    assert found is not None
    return found


def history(bench: Bench, case_id: int) -> int:
    with session_scope(bench.settings.database_url) as session:
        return session.exec(
            select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case_id)
        ).one()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sign_in_is_guarded_and_passwords_are_hashed(bench: Bench) -> None:
    client = Client(bench.url)
    assert client.get("/queue").headers["location"] == "/login", "no session: to the sign-in"
    wrong = client.login("xiaowang", "not-the-password")
    assert wrong.status_code == 401 and "用户名或密码不对" in wrong.text
    unknown = client.login("nobody", PASSWORD)
    assert unknown.status_code == 401 and "用户名或密码不对" in unknown.text, "no user hint"
    assert "aftercare_workbench" not in client.cookies
    # A sign-in form not from our page (login CSRF): refused.
    forged = Client(bench.url).post("/login", {"username": "xiaowang", "password": PASSWORD})
    assert forged.status_code == 403

    done = client.login("xiaowang")
    assert done.status_code == 303
    cookie = next(
        h for h in done.raw.headers.getlist("set-cookie") if h.startswith("aftercare_workbench=")
    ).lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" in cookie
    with session_scope(bench.settings.database_url) as session:
        stored = session.exec(select(WorkbenchUser.password_hash)).all()
    assert all(h.startswith("scrypt$") and PASSWORD not in h for h in stored)

    assert client.post("/logout", {}).status_code == 303
    assert client.get("/queue").status_code == 303, "a signed-out session opens nothing"


def test_an_agent_sees_only_their_shops_and_forms_refuse_bad_input(bench: Bench) -> None:
    agent = signed_in(bench, "xiaowang")
    mumu = case_of(bench, "mumu")
    other = agent.get(f"/cases/{mumu}")
    assert other.status_code == 403 and "不负责的店铺" in other.text
    assert agent.get("/queue?shop=mumu").status_code == 403
    assert agent.get("/cases/abc").status_code == 400
    assert agent.get("/cases/99999999").status_code == 404
    assert agent.get("/queue?kind=nonsense").status_code == 400
    assert agent.get("/lead").status_code == 403, "the lead's page is for leads"
    # Writing on another shop's case: refused before anything is read into a form.
    assert agent.post(f"/cases/{mumu}/note", {"text": "看看"}).status_code == 403

    review = case_of(bench, "sishi", review=True)
    agent.get(f"/cases/{review}")
    before = history(bench, review)
    tomorrow = (ANCHOR + timedelta(days=1)).astimezone(CHINA)
    bad_forms = [
        ({"outcome": "revised_maybe"}, "请选择本次联系的结果"),
        ({"outcome": "courier_pushed"}, "请选择本次联系的结果"),  # not a review outcome
        ({"outcome": "declined", "next_contact": "明天下午"}, "无法识别的时间"),
        ({"outcome": "declined", "next_contact": "2027-11-21T10:00"}, "不能晚于 30 天后"),
        ({"outcome": "declined", "next_contact": "2026-11-20T09:59"}, "必须在现在之后"),
        ({"outcome": "declined", "note": "很" * 501}, "备注最多 500 字"),
        ({"outcome": "reshipped", "courier": "", "waybill": "ZT123456789"}, "补发的快递公司"),
    ]
    for form, says in bad_forms:
        answer = agent.post(f"/cases/{review}/outcome", form)
        assert answer.status_code == 400 and says in answer.text, (form, answer.text[-400:])
    assert history(bench, review) == before, "a refused form writes nothing"
    # Beijing 10:00 is the pinned now: one minute later is accepted (the shop's zone is used).
    fine = agent.post(
        f"/cases/{review}/outcome",
        {"outcome": "declined", "next_contact": tomorrow.strftime("%Y-%m-%d %H:%M")},
    )
    assert fine.status_code == 303
    assert history(bench, review) == before + 1

    # Without the page's form token (CSRF), or with another's: refused, nothing written.
    assert agent.post(f"/cases/{review}/note", {"text": "x"}, csrf=False).status_code == 403
    assert agent.post(f"/cases/{review}/note", {"text": "x", "csrf": "forged"}).status_code == 403
    assert history(bench, review) == before + 1
    # An agent takes a case, but cannot hand it to someone else.
    assert agent.post(f"/cases/{review}/assign", {"agent": "xiaoli"}).status_code == 403
    assert agent.post(f"/cases/{review}/assign", {"agent": "xiaowang"}).status_code == 303


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_reveal_needs_the_permission_and_is_audited(bench: Bench) -> None:
    with session_scope(bench.settings.database_url) as session:
        mumu = session.exec(
            select(AfterSalesCase.id)
            .join(Shop, col(Shop.id) == AfterSalesCase.shop_id)
            .join(Order, col(Order.id) == AfterSalesCase.order_id)
            .where(Shop.code == "mumu", col(Order.receiver_phone).is_not(None))
        ).first()
    assert mumu is not None
    no_right = signed_in(bench, "xiaoli")
    page = no_right.get(f"/cases/{mumu}")
    assert page.status_code == 200 and "/reveal" not in page.text
    assert no_right.post(f"/cases/{mumu}/reveal", {}).status_code == 403
    lead = signed_in(bench, "lead")
    lead.get(f"/cases/{mumu}")
    shown = lead.post(f"/cases/{mumu}/reveal", {})
    assert shown.status_code == 200 and shown.headers["cache-control"] == "no-store"
    with session_scope(bench.settings.database_url) as session:
        audit = session.exec(select(PhoneReveal)).all()
    assert [(a.username, a.case_id, a.at) for a in audit] == [("lead", mumu, ANCHOR)]
    assert "****" not in shown.text.split('id="phone">')[1][:20]
    assert "号码查看记录" in lead.get(f"/cases/{mumu}").text


@pytest.fixture
def out_of_stock(sandbox):
    """A buyer of 丝施 asked two hours ago for the money back: the goods are out of stock
    (opened before the pipelines' run, which reads it)."""
    trade = next(
        t
        for t in sandbox.world.trades_of("sishi")
        if t.pay_time and t.consign_time is None and not t.status.startswith("TRADE_CLOSED")
    )
    return sandbox.taobao.refunds.open_refund(trade.tid, "缺货", ANCHOR - timedelta(hours=2))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_refund_is_answered_from_the_workbench_once(out_of_stock, bench: Bench) -> None:
    refund = out_of_stock
    agent = signed_in(bench, "xiaowang")
    other = signed_in(bench, "xiaoli")
    assert other.get(f"/refunds/{refund.refund_id}").status_code == 403, "another shop's"
    page = agent.get(f"/refunds/{refund.refund_id}")
    assert page.status_code == 200 and "同意退款" in page.text
    short = agent.post(f"/refunds/{refund.refund_id}/answer", {"action": "refuse", "reason": "不"})
    assert short.status_code == 400 and "5 to 200" in short.text
    assert not refund.actions, "a refused form sends nothing"
    done = agent.post(f"/refunds/{refund.refund_id}/answer", {"action": "agree"})
    assert done.status_code == 303 and "kind=refund" in done.headers["location"]
    assert len(refund.actions) == 1
    with session_scope(bench.settings.database_url) as session:
        kept = session.exec(select(RefundAction)).all()
        stored = session.exec(select(Refund).where(Refund.refund_id == str(refund.refund_id)))
        assert [a.actor for a in kept] == ["agent:xiaowang"]
        assert stored.one().status == "SUCCESS"
    again = agent.post(f"/refunds/{refund.refund_id}/answer", {"action": "agree"})
    assert again.status_code == 404, "answered: no longer waiting"
    assert len(refund.actions) == 1
