"""refunds-and-returns over a simulated fortnight: every refund kept current, every timer
warned of in time, once, and the ones the platform decided counted."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from aftercare.clients.taobao_refunds import RefundRecord
from aftercare.store.refunds import save_refunds
from flows.refunds_and_returns import refunds_and_returns
from models import Refund, Shop, StaffAlert
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
