"""Agents answer refunds with one command, through the pipeline's own path: once, on the
version read, and a typo is a clear refusal before anything is sent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from app.cli import app
from flows.refunds_and_returns import refunds_and_returns
from models import Refund, RefundAction, Shop, StaffAlert
from models.db import session_scope
from tests.conftest import ANCHOR

pytestmark = [
    pytest.mark.usefixtures("prefect_server"),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


def opened(sandbox, reason: str, *, shipped: bool):
    """A refund a buyer opened two hours ago on one of the shop's trades."""
    trade = next(
        t
        for code in ("mumu", "sishi", "xiaoya")
        for t in sandbox.world.trades_of(code)
        if t.pay_time
        and (t.consign_time is not None) == shipped
        and not t.status.startswith("TRADE_CLOSED")
    )
    return sandbox.taobao.refunds.open_refund(trade.tid, reason, ANCHOR - timedelta(hours=2))


def act(*args: str):
    return CliRunner().invoke(app, ["refunds", "act", *args])


def test_an_agent_lists_the_proposals_and_answers_one_with_one_command(settings, sandbox):
    refund = opened(sandbox, "缺货", shipped=False)
    refunds_and_returns(as_of=ANCHOR)
    listed = CliRunner().invoke(app, ["refunds", "list"])
    assert listed.exit_code == 0, listed.output
    assert str(refund.refund_id) in listed.output and "agree" in listed.output
    assert "aftercare refunds act" in listed.output

    done = act(str(refund.refund_id), "--action", "agree", "--agent", "小王")
    assert done.exit_code == 0 and "agree done" in done.output, done.output
    assert [status for _, status in refund.actions] == ["SUCCESS"]
    with session_scope(settings.database_url) as session:
        answer = session.exec(select(RefundAction)).one()
        stored = session.exec(select(Refund).where(Refund.refund_id == str(refund.refund_id))).one()
    assert (answer.status, answer.actor, answer.action) == ("done", "agent:小王", "agree")
    assert stored.status == "SUCCESS", "the refund is re-read after the answer"
    # Given twice (a double click, a second agent): nothing goes to the platform again.
    again = act(str(refund.refund_id), "--action", "agree", "--agent", "小李")
    assert again.exit_code == 1 and "not waiting" in again.output
    assert len(refund.actions) == 1


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--action", "agreee", "--agent", "小王"], "the action must be one of"),
        (["--action", "refuse", "--agent", "小王"], "a refusal needs a reason"),
        (["--action", "refuse", "--agent", "小王", "--reason", "不"], "a refusal needs a reason"),
        (["--action", "agree", "--agent", " "], "--agent names who decided"),
        (["--action", "agree_return", "--agent", "小王"], "no return address"),
    ],
)
def test_a_typo_is_a_clear_refusal_and_nothing_is_sent(settings, sandbox, args, says):
    refund = opened(sandbox, "缺货", shipped=False)
    refunds_and_returns(as_of=ANCHOR)
    result = act(str(refund.refund_id), *args)
    assert result.exit_code == 1 and says in result.output, result.output
    assert not refund.actions
    with session_scope(settings.database_url) as session:
        assert not session.exec(select(RefundAction)).all()


def test_an_unknown_refund_is_refused_by_name(settings, sandbox):
    result = act("9999", "--action", "agree", "--agent", "小王")
    assert result.exit_code == 1 and "refund 9999 is not waiting" in result.output


def test_a_refund_the_buyer_changed_meanwhile_is_not_answered_blindly(settings, sandbox):
    refund = opened(sandbox, "缺货", shipped=False)
    refunds_and_returns(as_of=ANCHOR - timedelta(hours=1))
    sandbox.clock.set(ANCHOR)
    refund.steps.insert(1, (ANCHOR, "WAIT_SELLER_AGREE"))  # the buyer edits the request
    changed = act(str(refund.refund_id), "--action", "agree", "--agent", "小王")
    assert changed.exit_code == 2 and "changed since it was read" in changed.output
    assert not refund.actions
    # Listed again, it is answered on its new version.
    done = act(str(refund.refund_id), "--action", "agree", "--agent", "小王")
    assert done.exit_code == 0 and [s for _, s in refund.actions] == ["SUCCESS"]


def test_a_refusal_the_platform_does_not_allow_is_recorded_and_never_repeated(settings, sandbox):
    refund = opened(sandbox, "不想要了", shipped=False)  # no refusing an unshipped order
    refunds_and_returns(as_of=ANCHOR)
    reason = "您好，商品已打包待发，如不需要可拒收，我们收到退货后立即退款。"
    failed = act(str(refund.refund_id), "--action", "refuse", "--agent", "小王", "--reason", reason)
    assert failed.exit_code == 2 and "refused refuse" in failed.output
    with session_scope(settings.database_url) as session:
        answer = session.exec(select(RefundAction)).one()
    assert answer.status == "failed" and answer.reason
    again = act(str(refund.refund_id), "--action", "refuse", "--agent", "小王", "--reason", reason)
    assert "given before" in again.output and not refund.actions


def test_an_answer_cut_off_after_its_claim_is_told_to_staff_once(settings, sandbox):
    from aftercare.store.refund_actions import claim_action

    refund = opened(sandbox, "缺货", shipped=False)
    refunds_and_returns(as_of=ANCHOR - timedelta(hours=1))
    with session_scope(settings.database_url) as session:
        shop_id = session.exec(select(Shop.id).where(Shop.code == refund.trade.shop)).one()
        # The process died between the claim and the platform's answer.
        claim_action(
            session=session, shop_id=shop_id, refund_id=str(refund.refund_id), action="agree",
            version=0, now=ANCHOR - timedelta(hours=1), actor="pipeline",
        )  # fmt: skip
    first = refunds_and_returns(as_of=ANCHOR)
    second = refunds_and_returns(as_of=ANCHOR + timedelta(minutes=10))
    assert first["answers_interrupted"] == second["answers_interrupted"] == 1
    with session_scope(settings.database_url) as session:
        alerts = session.exec(
            select(StaffAlert).where(StaffAlert.dedupe_key.like("refund-action:%"))  # type: ignore[attr-defined]
        ).all()
    assert len(alerts) == 1 and "不要重复操作" in alerts[0].line
    assert not refund.actions, "nobody answered it again by itself"


def test_not_received_on_a_parcel_our_tracking_saw_signed_is_listed_for_refusal(settings, sandbox):
    from flows.logistics_check import logistics_check
    from models import Order, Shipment

    logistics_check(as_of=ANCHOR - timedelta(hours=3))
    with session_scope(settings.database_url) as session:
        tid = session.exec(
            select(Order.tid)
            .join(Shipment, Shipment.order_id == Order.id)
            .where(Shipment.delivered_at.is_not(None))  # type: ignore[union-attr]
        ).first()
    assert tid is not None
    refund = sandbox.taobao.refunds.open_refund(int(tid), "未收到货", ANCHOR - timedelta(hours=2))
    refunds_and_returns(as_of=ANCHOR)
    listed = CliRunner().invoke(app, ["refunds", "list"])
    line = next(row for row in listed.output.splitlines() if str(refund.refund_id) in row)
    assert "refuse" in line and "物流信息显示包裹已于" in line, listed.output


def test_every_problem_is_registered_once_with_who_answers_and_purchasing_sees_the_week(
    settings, sandbox
):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.client.schemas.sorting import ArtifactSort

    from flows.logistics_check import logistics_check
    from models import Order, RegisteredProblem, Shipment

    logistics_check(as_of=ANCHOR - timedelta(hours=3))
    with session_scope(settings.database_url) as session:
        shipped = session.exec(
            select(Order.tid, Shipment.courier_name).join(Shipment, Shipment.order_id == Order.id)
        ).all()
    desk = sandbox.taobao.refunds
    (lost_tid, courier), (bad_tid, _), (bad_too, _) = shipped[:3]
    lost = desk.open_refund(int(lost_tid), "未收到货", ANCHOR - timedelta(hours=2))
    bad = [
        desk.open_refund(int(t), "质量问题", ANCHOR - timedelta(hours=2))
        for t in (bad_tid, bad_too)
    ]
    first = refunds_and_returns(as_of=ANCHOR)
    # The agent keeps the buyer's photos with the quality problem (typos refused).
    photo = ["refunds", "photo", str(bad[0].refund_id), "--shop", bad[0].trade.shop, "--link"]
    assert CliRunner().invoke(app, [*photo, "https://img.example/1.jpg"]).exit_code == 0
    kept = CliRunner().invoke(app, [*photo, "https://img.example/2.jpg"])
    assert kept.exit_code == 0 and "2 photo(s)" in kept.output
    refused = CliRunner().invoke(app, [*photo, "img.example/3.jpg"])
    assert refused.exit_code == 1 and "not a photo link" in refused.output
    again = refunds_and_returns(as_of=ANCHOR + timedelta(minutes=10))
    from models import AfterSalesCase

    with session_scope(settings.database_url) as session:
        registered = session.exec(select(RegisteredProblem)).all()
        lost_cases = session.exec(
            select(AfterSalesCase, Shipment.courier_name)
            .join(Shipment, Shipment.id == AfterSalesCase.shipment_id)
            .join(Order, Order.id == AfterSalesCase.order_id)
            .where(AfterSalesCase.kind == "expired", Order.tid != lost_tid)
        ).all()
    # The three refunds, and each parcel the couriers lost track of that no refund registered.
    assert lost_cases and first["problems_registered"] == 3 + len(lost_cases)
    assert again["problems_registered"] == 0 and first["quality_problems_this_week"] == 2
    from_cases = {r.source_id: r for r in registered if r.source == "case"}
    for case, case_courier in lost_cases:
        row = from_cases[str(case.id)]
        assert (row.kind, row.answerable) == ("lost_parcel", case_courier)
    rows = {r.source_id: r for r in registered if r.source == "refund"}
    assert rows[str(lost.refund_id)].kind == "lost_parcel"
    assert rows[str(lost.refund_id)].answerable == courier, "a lost parcel names its courier"
    for refund in bad:
        row = rows[str(refund.refund_id)]
        assert (row.kind, row.answerable, row.reason) == ("quality", "采购（供应商）", "质量问题")
        assert row.item == refund.trade.lines[0].title
    with get_client(sync_client=True) as client:
        weekly = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["quality-weekly"])),
            sort=ArtifactSort.CREATED_DESC,
            limit=1,
        )
    import json

    table = json.loads(weekly[0].data)
    items = {row["商品"]: row for row in table}
    for refund in bad:
        assert items[refund.trade.lines[0].title]["责任方"] == "采购（供应商）"
    assert sum(row["件数"] for row in table) == 2 and sum(row["照片"] for row in table) == 2


def test_the_buyer_hears_once_per_request_in_the_words_of_its_kind(settings, sandbox):
    from flows.dispatch_messages import dispatch_messages
    from models import OutboxMessage

    stock = opened(sandbox, "缺货", shipped=False)
    quality = opened(sandbox, "质量问题", shipped=True)
    old_trade = next(
        t for t in sandbox.world.trades_of("mumu") if t.pay_time and t.tid != stock.trade.tid
        and t.tid != quality.trade.tid
    )  # fmt: skip
    stale = sandbox.taobao.refunds.open_refund(old_trade.tid, "缺货", ANCHOR - timedelta(days=2))
    for minutes in (0, 10):  # a run and the next one
        refunds_and_returns(as_of=ANCHOR + timedelta(minutes=minutes))
    for _ in range(2):
        dispatch_messages(as_of=ANCHOR + timedelta(minutes=11))
    with session_scope(settings.database_url) as session:
        queued = {
            m.idempotency_key: m
            for m in session.exec(select(OutboxMessage))
            if m.purpose.startswith("refund_")
        }
    shop = stock.trade.shop
    assert set(queued) == {
        f"refund:{shop}:{stock.refund_id}:opened",
        f"refund:{quality.trade.shop}:{quality.refund_id}:opened",
    }, "one message per new request; a request two days old is not news any more"
    assert f"refund:mumu:{stale.refund_id}:opened" not in queued
    texts = {m.purpose: m for m in queued.values()}
    assert (
        "缺货" in texts["refund_out_of_stock"].text
        and str(stock.trade.tid) in texts["refund_out_of_stock"].text
    )
    assert "照片" in texts["refund_quality"].text
    sent = [r for r in sandbox.sms_sent if r.out_id in queued]
    for message in queued.values():
        if message.status == "sent":
            assert [r.out_id for r in sent].count(message.out_id) == 1
        else:  # a buyer SMS cannot reach is recorded with the reason, never dropped
            assert message.reason
    assert sent, "the requests' buyers were told"


def test_a_reship_is_tracked_noted_on_the_case_and_told_to_the_buyer_once(settings, sandbox):
    from flows.dispatch_messages import dispatch_messages
    from flows.logistics_check import logistics_check
    from models import AfterSalesCase, CaseEvent, Order, OutboxMessage, Shipment

    logistics_check(as_of=ANCHOR - timedelta(hours=3))
    with session_scope(settings.database_url) as session:
        case, tid, code = session.exec(
            select(AfterSalesCase, Order.tid, Shop.code)
            .join(Order, Order.id == AfterSalesCase.order_id)
            .join(Shop, Shop.id == Order.shop_id)
            .where(AfterSalesCase.kind == "expired", Order.phone_masked == False)  # noqa: E712
        ).first()
    args = [
        tid,
        "--shop",
        code,
        "--courier",
        "中通快递",
        "--waybill",
        "ZT7700112233",
        "--agent",
        "小王",
    ]
    done = CliRunner().invoke(app, ["refunds", "reship", *args])
    assert done.exit_code == 0 and "noted on 1 open case" in done.output, done.output
    again = CliRunner().invoke(app, ["refunds", "reship", *args])  # recorded twice by mistake
    assert again.exit_code == 1 and "recorded already" in again.output
    for bad, says in (
        ([tid, "--shop", code, "--courier", "中通快递", "--waybill", "ZT 77", "--agent", "小王"],
         "not a tracking number"),
        (["404", "--shop", code, "--courier", "中通快递", "--waybill", "ZT7700119999", "--agent",
          "小王"], "no order 404"),
    ):  # fmt: skip
        refused = CliRunner().invoke(app, ["refunds", "reship", *bad])
        assert refused.exit_code == 1 and says in refused.output

    logistics_check(as_of=ANCHOR)  # the new parcel is checked like any other
    for _ in range(2):
        dispatch_messages(as_of=ANCHOR)
    with session_scope(settings.database_url) as session:
        parcel = session.exec(select(Shipment).where(Shipment.waybill == "ZT7700112233")).one()
        notes = session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id)).all()
        told = session.exec(
            select(OutboxMessage).where(OutboxMessage.purpose == "logistics_reshipped")
        ).all()
    assert parcel.courier == "zhongtong" and parcel.last_checked_at is not None
    assert any(n.action == "reshipped" and "ZT7700112233" in n.note for n in notes)
    assert len(told) == 1 and "ZT7700112233" in told[0].text and told[0].status == "sent"
    assert [r.out_id for r in sandbox.sms_sent].count(told[0].out_id) == 1


def test_a_parcel_still_on_its_way_is_intercepted_once_and_its_result_told(settings, sandbox):
    from flows.logistics_check import logistics_check

    logistics_check(as_of=ANCHOR - timedelta(hours=3))
    trade = next(
        t
        for code in ("mumu", "sishi", "xiaoya")
        for t in sandbox.world.trades_of(code)
        if t.scenario == "in_transit" and t.status == "WAIT_BUYER_CONFIRM_GOODS"
    )
    refund = sandbox.taobao.refunds.open_refund(
        trade.tid, "七天无理由退换货", ANCHOR - timedelta(hours=2)
    )
    refunds_and_returns(as_of=ANCHOR)
    listed = CliRunner().invoke(app, ["refunds", "list"])
    line = next(row for row in listed.output.splitlines() if str(refund.refund_id) in row)
    assert "intercept" in line, listed.output
    done = act(str(refund.refund_id), "--action", "intercept", "--agent", "小王")
    assert done.exit_code == 0 and "intercept done" in done.output, done.output
    assert refund.intercept is not None
    again = act(str(refund.refund_id), "--action", "intercept", "--agent", "小李")
    assert "given before" in again.output

    later = ANCHOR + timedelta(days=1, minutes=30)  # the courier has answered by now
    sandbox.clock.set(later)
    first = refunds_and_returns(as_of=later)
    second = refunds_and_returns(as_of=later + timedelta(minutes=10))
    assert first["intercept_results"] == 1 and second["intercept_results"] == 0
    with session_scope(settings.database_url) as session:
        action = session.exec(select(RefundAction).where(RefundAction.action == "intercept")).one()
        told = session.exec(
            select(StaffAlert).where(StaffAlert.dedupe_key.like("refund-intercept:%"))  # type: ignore[attr-defined]
        ).all()
    expected = "INTERCEPT_FAILED" if refund.refund_id % 3 == 0 else "INTERCEPT_SUCCESS"
    assert action.reason == expected and len(told) == 1
    assert ("拦截成功" if expected == "INTERCEPT_SUCCESS" else "拦截失败") in told[0].line
