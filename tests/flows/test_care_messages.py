"""care-messages over two simulated weeks, and holiday greetings, against the sandbox."""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from sqlmodel import select
from typer.testing import CliRunner

from aftercare.templates import load_templates
from app.cli import app
from flows.care_messages import care_messages
from flows.dispatch_messages import dispatch_messages
from flows.logistics_check import logistics_check
from flows.new_product_preview import new_product_preview
from flows.unpaid_reminders import unpaid_order_reminders
from models import Customer, OptOut, Order, OutboxMessage
from models.db import session_scope
from tests.conftest import ANCHOR

pytestmark = pytest.mark.usefixtures("prefect_server")
SHANGHAI = ZoneInfo("Asia/Shanghai")
MARKETING_CODES = {t.code for t in load_templates().values() if t.kind == "marketing"}
CARE_CODES = {t.code for name, t in load_templates().items() if name.startswith("care_")}


def import_members(sandbox, tmp_path):
    for shop in ("sishi", "xiaoya", "mumu"):
        csv = requests.get(
            f"{sandbox.base_url}/_sandbox/members.csv", params={"shop": shop}, timeout=5
        )
        path = tmp_path / f"{shop}.csv"
        path.write_text(csv.text, encoding="utf-8")
        result = CliRunner().invoke(app, ["customers", "import", shop, str(path)])
        assert result.exit_code == 0, result.output
        assert "members imported" in result.output


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_two_weeks_of_care_respect_consent_opt_outs_and_caps(settings, sandbox, receiver, tmp_path):
    sandbox.set_uplink_url(f"{receiver}/sms/uplink")
    sandbox.opt_outs.rate = 0.5  # half the buyers answer marketing with "TD" (seeded)
    import_members(sandbox, tmp_path)
    opted_early = next(
        m.mobile for m in sandbox.world.members("sishi") if m.mobile and m.marketing_consent
    )
    sandbox.reply(opted_early, "TD")
    sandbox.deliver_pending()

    for day in range(14):
        now = ANCHOR + timedelta(days=day)  # 10:00 in Shanghai
        sandbox.clock.set(now)
        sandbox.deliver_pending()  # replies buyers sent overnight arrive before the runs
        logistics_check(as_of=now)
        unpaid_order_reminders(as_of=now)  # the gap holds across every pipeline
        care_messages(as_of=now)
        dispatch_messages(as_of=now)
        sandbox.deliver_pending()  # buyers' replies reach the receiver

    sent = [sms for sms in sandbox.sms_sent if sms.template_code in CARE_CODES]
    assert sent
    with session_scope(settings.database_url) as session:
        opt_outs = {o.value: o.opted_out_at for o in session.exec(select(OptOut))}
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.purpose.like("care_%"))).all()  # type: ignore[attr-defined]
        shipped = session.exec(
            select(Order).where(Order.consigned_at >= ANCHOR - timedelta(hours=48))  # type: ignore[operator]
        ).all()
    assert opted_early in opt_outs, "the reply opted the buyer out at once"
    assert len(opt_outs) > 1, "buyers also opted out by answering marketing messages"

    # No marketing reaches anyone after their opt-out.
    for sms in sent:
        if sms.template_code in MARKETING_CODES and sms.phone in opt_outs:
            assert sms.sent_at < opt_outs[sms.phone], f"marketing after opt-out to {sms.phone[-4:]}"

    # Caps: one marketing message a day, two a week, per phone; 30 min between any two.
    marketing = defaultdict(list)
    for sms in sandbox.sms_sent:
        if sms.template_code in MARKETING_CODES:
            marketing[sms.phone].append(sms.sent_at)
    for times in marketing.values():
        days = Counter(t.astimezone(SHANGHAI).date() for t in times)
        assert max(days.values()) == 1
        for t in times:
            assert sum(1 for u in times if t - timedelta(days=7) < u <= t) <= 2
    by_phone = defaultdict(list)
    for sms in sandbox.sms_sent:
        if not sms.template_code.startswith("SMS_4801"):  # urgent parcel notices aside
            by_phone[sms.phone].append(sms.sent_at)
    for times in by_phone.values():
        times.sort()
        assert all(b - a >= timedelta(minutes=30) for a, b in itertools.pairwise(times))

    # Every order shipped in the notice window got exactly one shipping notice.
    notices = Counter(r.idempotency_key.split(":")[2] for r in rows if r.purpose == "care_shipped")
    assert shipped and {o.tid for o in shipped} <= set(notices) and max(notices.values()) == 1
    texted = Counter(s.out_id for s in sandbox.sms_sent)
    assert max(texted.values()) == 1

    # Thanks only for receipts the buyer confirmed; marketing only with consent (else a reason).
    for row in rows:
        if row.purpose.startswith("care_confirmed") and row.status == "sent":
            tid = int(row.idempotency_key.split(":")[2])
            assert not sandbox.world.confirmation(tid).auto
        if row.category == "marketing" and row.status == "suppressed":
            assert row.reason
    reasons = Counter(r.reason for r in rows if r.status == "suppressed")
    assert any("consent" in (r or "") for r in reasons)
    assert any("automatically" in (r or "") for r in reasons)
    purposes = Counter(r.purpose.split("@")[0] for r in rows)
    print(
        f"\ncare fortnight: {len(rows)} care messages decided {dict(purposes)}; "
        f"{len(sent)} sent; {len(opt_outs)} opt-outs; held back: {dict(reasons)}"
    )
    for touchpoint in (
        "care_shipped",
        "care_delivered",
        "care_revisit",
        "care_confirmed",
        "care_birthday",
    ):
        assert purposes[touchpoint] > 0, touchpoint


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_holiday_greetings_and_new_product_previews_go_to_consenting_members_only(
    settings, sandbox, tmp_path
):
    import_members(sandbox, tmp_path)
    new_year = datetime(2027, 1, 1, 10, 0, tzinfo=SHANGHAI)
    result = care_messages(as_of=new_year)
    assert any(k.startswith("holiday:") for k in result)
    preview = new_product_preview(
        shop="mumu",
        product="加绒卫衣",
        campaign="2027-winter",
        tags=["童装", "老客户"],
        as_of=new_year + timedelta(hours=1),
    )
    again = new_product_preview(
        shop="mumu",
        product="加绒卫衣",
        campaign="2027-winter",
        tags=["童装", "老客户"],
        as_of=new_year + timedelta(hours=2),
    )
    assert sum(preview.values()) > 0 and again == {}, "a campaign reaches each member once"
    with session_scope(settings.database_url) as session:
        rows = session.exec(
            select(OutboxMessage).where(OutboxMessage.category == "marketing")
        ).all()
        nicks = dict(session.exec(select(Customer.id, Customer.buyer_nick)).all())
    members = {
        m.buyer_nick: m for shop in ("sishi", "xiaoya", "mumu") for m in sandbox.world.members(shop)
    }
    holiday = [r for r in rows if r.purpose == "care_holiday"]
    assert holiday and all("元旦" in r.text for r in holiday)
    for row in rows:
        assert row.idempotency_key.split(":")[2] == f"member-{row.customer_id}"
        nick = nicks[row.customer_id]
        if row.status == "pending":
            assert members[nick].marketing_consent, "marketing only with consent"
            assert row.text.endswith("回T退订")
        else:
            assert row.reason
    # A day on: a member already greeted today is not sent a second marketing message.
    day_keys = Counter((r.phone, r.created_at.date()) for r in rows if r.status == "pending")
    assert max(day_keys.values()) == 1
    assert any("daily marketing cap" in (r.reason or "") for r in rows)
