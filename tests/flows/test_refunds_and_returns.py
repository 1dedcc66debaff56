"""refunds-and-returns over a simulated fortnight: every refund kept current, every timer
warned of in time, once, and the ones the platform decided counted."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from aftercare.clients.taobao_refunds import RefundRecord
from aftercare.store.refunds import save_refunds
from flows.refunds_and_returns import refunds_and_returns
from models import Refund, ReturnParcel, Shop, StaffAlert
from models.db import session_scope
from tests.conftest import ANCHOR

pytestmark = [
    pytest.mark.usefixtures("prefect_server"),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]
END = ANCHOR + timedelta(days=14)


@pytest.fixture
def sandbox() -> Iterator[object]:
    """The sandbox with buyers asking for refunds on some of their orders."""
    from sandbox import Sandbox, SandboxConfig

    config = SandboxConfig(
        seed=7, orders_per_shop=40, anchor=ANCHOR, clock_tick=False, refund_rate=0.12
    )
    with Sandbox(config) as running:
        running.clock.set(ANCHOR)
        yield running


def moments(sandbox) -> list:
    """Twice a day, plus 11 h and 1 h before each deadline (the deployment runs every 10
    minutes; the test runs where it matters)."""
    steps = {ANCHOR + timedelta(hours=12 * n) for n in range(14 * 2 + 1)}
    for refund in sandbox.taobao.refunds.refunds.values():
        for deadline in refund.deadlines.values():
            steps |= {deadline - timedelta(hours=11), deadline - timedelta(hours=1)}
    return sorted(m for m in steps if ANCHOR <= m <= END)


def test_a_fortnight_of_refunds_is_kept_current_and_every_timer_is_warned_of_in_time(
    settings, sandbox
):
    url = settings.database_url
    desk = sandbox.taobao.refunds
    assert len(desk.refunds) >= 6
    for moment in moments(sandbox):
        sandbox.clock.set(moment)
        refunds_and_returns(as_of=moment)
    again = refunds_and_returns(as_of=END)  # a repeated run changes nothing, tells nobody twice
    assert again["refunds_new"] == again["refunds_changed"] == again["alerts_queued"] == 0

    with session_scope(url) as session:
        stored = {r.refund_id: r for r in session.exec(select(Refund))}
        alerts = {a.dedupe_key: a for a in session.exec(select(StaffAlert))}
        codes = dict(session.exec(select(Shop.id, Shop.code)).all())
    # Every refund the buyers asked for is stored as the platform has it at the end.
    visible = {str(r.refund_id): r for r in desk.refunds.values() if r.at(END)}
    assert set(stored) == set(visible)
    for refund_id, refund in visible.items():
        modified, status = refund.at(END)
        row = stored[refund_id]
        assert (row.status, row.version) == (status, int(modified.timestamp() * 1000))
        assert row.kind and codes[row.shop_id] == refund.trade.shop

    # Each of the seller's deadlines in the fortnight was told to staff at 12 h and at 2 h.
    warned = 0
    for refund in desk.refunds.values():
        for status, deadline in refund.deadlines.items():
            in_turn = refund.at(deadline - timedelta(hours=1))
            if not (ANCHOR + timedelta(hours=12) < deadline <= END) or in_turn[1] != status:
                continue  # withdrawn before its timer, or outside the fortnight
            for margin in ("12h", "2h"):
                key = f"refund:{refund.trade.shop}:{refund.refund_id}:{status}:{margin}"
                assert key in alerts, f"no {margin} warning for {refund.refund_id}"
                assert alerts[key].created_at < deadline
                assert alerts[key].status == "posted"
            warned += 1
    assert warned >= 3
    # Each line reached the robot once.
    lines = Counter(
        line for m in sandbox.robot_messages for line in m.text.splitlines() if "退款 " in line
    )
    assert lines and max(lines.values()) == 1

    # With nobody acting on the platform yet, the timer decided them: counted, none missed
    # (those decided before the first run look like any agreed refund, and are not counted).
    timed = {
        str(r.refund_id)
        for r in desk.refunds.values()
        for when, status in r.steps
        if ANCHOR < when <= END and status in ("SUCCESS", "WAIT_BUYER_RETURN_GOODS")
        and any(when == d for d in r.deadlines.values())
    }  # fmt: skip
    assert {k for k, r in stored.items() if r.decided_by_timer} == timed
    assert again["refunds_decided_by_timer"] == len(timed)
    assert any(k.startswith("refund kind:") for k in again)

    # Every parcel sent back in the fortnight was tracked with the couriers: its arrival told
    # to staff once, before the receipt deadline; one never scanned told as an anomaly.
    with session_scope(url) as session:
        tracked = {p.refund_id: p for p in session.exec(select(ReturnParcel))}
    sent_back = [
        r for r in desk.refunds.values()
        if r.return_parcel and ANCHOR <= r.return_parcel[0] <= END - timedelta(hours=13)
    ]  # fmt: skip
    assert sent_back, "the fortnight has returns"
    seen: Counter[str] = Counter()
    for refund in sent_back:
        parcel = tracked[str(refund.refund_id)]
        key = f"{refund.trade.shop}:{refund.refund_id}"
        if refund.refund_id % 10 == 7:  # the sandbox's lost return: never scanned
            if refund.return_parcel[0] + timedelta(hours=37) <= END:
                assert f"return-anomaly:{key}:no_tracking" in alerts
                seen["lost"] += 1
            continue
        arrived = refund.return_parcel[0] + timedelta(days=2)
        if arrived + timedelta(hours=13) > END:
            continue
        assert parcel.status == "delivered" and parcel.delivered_at == arrived
        told = alerts[f"return-arrived:{key}"]
        assert arrived <= told.created_at < refund.deadlines["WAIT_SELLER_CONFIRM_GOODS"]
        assert "签收" in told.line and refund.return_parcel[2] in told.line
        seen["arrived"] += 1
    assert seen["arrived"] >= 2, seen


def test_an_older_version_never_replaces_a_newer_one(settings):
    url = settings.database_url
    with session_scope(url) as session:
        shop_id = session.exec(select(Shop.id).where(Shop.code == "sishi")).one()

    def record(version: int, status: str) -> RefundRecord:
        return RefundRecord(
            refund_id="9100000001", tid="1", oid=None, status=status, has_good_return=False,
            good_status="BUYER_NOT_RECEIVED", reason="缺货", refund_fee=Decimal("19.90"),
            created=ANCHOR, modified=ANCHOR + timedelta(seconds=version), version=version,
            seller_deadline=None, return_company=None, return_waybill=None, title="",
        )  # fmt: skip

    with session_scope(url) as session:
        save_refunds(session=session, shop_id=shop_id, refunds=(record(2, "SUCCESS"),), now=ANCHOR)
    with session_scope(url) as session:
        late = save_refunds(
            session=session, shop_id=shop_id, refunds=(record(1, "WAIT_SELLER_AGREE"),), now=ANCHOR
        )
        # Both versions on one page, out of order: the newer one stands.
        both = save_refunds(
            session=session, shop_id=shop_id,
            refunds=(record(4, "CLOSED"), record(3, "WAIT_SELLER_AGREE")), now=ANCHOR,
        )  # fmt: skip
    assert late["older"] == 1 and both["changed"] == 2
    with session_scope(url) as session:
        row = session.exec(select(Refund)).one()
    assert (row.status, row.version, row.kind) == ("CLOSED", 4, "out_of_stock")


def test_refund_messages_on_the_channel_bring_each_refund_in_as_it_stands(
    settings, sandbox, monkeypatch
):
    from aftercare.settings import get_settings
    from flows.platform_events import platform_events
    from models import PlatformMessage

    monkeypatch.setenv("AFTERCARE_EVENTS__ENABLED", "true")
    monkeypatch.setenv("AFTERCARE_SYNC__POLL_TRADES", "false")
    get_settings.cache_clear()
    url = get_settings().database_url
    sandbox.clock.set(ANCHOR)
    platform_events(as_of=ANCHOR)  # the shops' messages start now
    later = ANCHOR + timedelta(days=6)
    reread = 0
    for half_days in range(1, 13):  # the channel runs all along (it keeps messages for days)
        sandbox.clock.set(ANCHOR + timedelta(hours=12 * half_days))
        reread += platform_events(as_of=ANCHOR + timedelta(hours=12 * half_days)).get(
            "refunds re-read", 0
        )
    moved = {
        str(r.refund_id)
        for r in sandbox.taobao.refunds.refunds.values()
        if any(ANCHOR < when <= later for when, _ in r.steps)
    }
    assert moved and reread >= len(moved)
    with session_scope(url) as session:
        stored = {r.refund_id: r for r in session.exec(select(Refund))}
        outcomes = [m.outcome for m in session.exec(select(PlatformMessage)) if m.refund_id]
    assert set(stored) == moved, "every refund a message named is stored, and nothing else"
    for refund_id, row in stored.items():
        _, status = sandbox.taobao.refunds.refunds[int(refund_id)].at(later)
        assert row.status == status, "re-read as it stands, whatever order the messages came"
    assert outcomes and all(o.startswith("re-read: the refund is") for o in outcomes)


ALL_KINDS_AUTOMATIC = (
    '{"out_of_stock": 5000, "unshipped_change_mind": 5000, "lost_parcel": 5000, '
    '"short_shipped": 5000, "wrong_item": 5000, "quality": 5000, "seven_days": 5000}'
)
ADDRESS = json.dumps(
    {
        code: {"name": f"{code}售后", "address": f"{code}仓库1号", "mobile": "13800000001"}
        for code in ("sishi", "xiaoya", "mumu")
    },
    ensure_ascii=False,
)


def test_answers_the_shop_automated_beat_every_timer_and_are_given_once(
    settings, sandbox, monkeypatch
):
    from aftercare.settings import get_settings

    monkeypatch.setenv("AFTERCARE_REFUNDS__AUTO", ALL_KINDS_AUTOMATIC)
    monkeypatch.setenv("AFTERCARE_REFUNDS__RETURN_ADDRESSES", ADDRESS)
    get_settings.cache_clear()
    desk = sandbox.taobao.refunds
    for half_days in range(0, 2 * 7 + 1):
        moment = ANCHOR + timedelta(hours=12 * half_days)
        sandbox.clock.set(moment)
        refunds_and_returns(as_of=moment)
        refunds_and_returns(as_of=moment)  # an overlapping or repeated run adds nothing
        confirm_returns_told_arrived(settings.database_url)  # the warehouse, once checked
    answered = [r for r in desk.refunds.values() if r.actions]
    assert answered, "the pipeline answered refunds by itself"
    for refund in desk.refunds.values():
        kinds = [status for _, status in refund.actions]
        assert len(kinds) == len(set(kinds)), f"refund {refund.refund_id} answered twice"
        agree_deadline = refund.deadlines["WAIT_SELLER_AGREE"]
        if refund.created >= ANCHOR - timedelta(hours=12) and refund.steps[1][1] != "CLOSED":
            # Seen while waiting for the seller: answered before the platform's timer.
            assert refund.actions and refund.actions[0][0] < agree_deadline, refund.refund_id
        for _, status in refund.actions:
            if status == "WAIT_BUYER_RETURN_GOODS":
                assert refund.return_address  # sent where the shop takes returns
    with session_scope(settings.database_url) as session:
        from models import RefundAction

        done = session.exec(select(RefundAction)).all()
        agreed = {r.refund_id for r in session.exec(select(Refund)) if r.decided_by_timer}
    assert all(a.status == "done" for a in done) and len(done) == sum(
        len(r.actions) for r in answered
    )
    # With the warehouse confirming each return it was told of, only a return the couriers
    # never scanned (lost on its way back) can still run out.
    for refund_id in agreed:
        assert int(refund_id) % 10 == 7, f"refund {refund_id} decided by the timer"
    assert any(status == "SUCCESS" for r in answered for _, status in r.actions[1:])


def confirm_returns_told_arrived(url) -> None:
    """What the warehouse does on "退货已签收": checks the goods and confirms the receipt."""
    from typer.testing import CliRunner

    from app.cli import app

    with session_scope(url) as session:
        told = {a.dedupe_key for a in session.exec(select(StaffAlert))}
        back = session.exec(
            select(Refund, Shop.code)
            .join(Shop, Shop.id == Refund.shop_id)
            .where(Refund.status == "WAIT_SELLER_CONFIRM_GOODS")
        ).all()
    for refund, code in back:
        if f"return-arrived:{code}:{refund.refund_id}" in told:
            args = [refund.refund_id, "--action", "agree", "--agent", "仓库小张"]
            result = CliRunner().invoke(app, ["refunds", "act", *args])
            assert result.exit_code in (0, 2), result.output


def test_a_refund_that_changed_since_it_was_read_is_decided_again_never_acted_on_blindly(
    settings, sandbox, monkeypatch
):
    from aftercare.settings import get_settings
    from tasks.refund_actions import act_on_refunds

    trade = next(
        t
        for code in ("mumu", "sishi", "xiaoya")
        for t in sandbox.world.trades_of(code)
        if t.pay_time and not t.consign_time
    )
    refund = sandbox.taobao.refunds.open_refund(trade.tid, "缺货", ANCHOR - timedelta(hours=2))
    refunds_and_returns(as_of=ANCHOR - timedelta(hours=1))  # stored, waiting for the seller
    monkeypatch.setenv("AFTERCARE_REFUNDS__AUTO", '{"out_of_stock": 5000}')
    get_settings.cache_clear()
    # ... and before the shop's answer goes out, the buyer edits the request (a new version).
    sandbox.clock.set(ANCHOR)
    refund.steps.insert(1, (ANCHOR, "WAIT_SELLER_AGREE"))
    first = act_on_refunds(ANCHOR)
    assert first.get("refund_changed") == 1 and not refund.actions, "never on the old version"
    with session_scope(settings.database_url) as session:
        stored = session.exec(select(Refund).where(Refund.refund_id == str(refund.refund_id))).one()
    assert stored.version == int(ANCHOR.timestamp() * 1000), "the new version is on record"
    # Decided again on the new version, and answered once however often the task runs.
    act_on_refunds(ANCHOR)
    act_on_refunds(ANCHOR)
    assert [status for _, status in refund.actions] == ["SUCCESS"]
