"""Hostile buyer text through the pipelines: stored intact, shown escaped, sent clean, no crash."""

from __future__ import annotations

import json
import re

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
from sqlmodel import select
from typer.testing import CliRunner

from aftercare.display import markdown_text, one_line, robot_text
from aftercare.privacy import mask_name
from app.cli import app
from flows.bad_review_followups import bad_review_followups
from flows.care_messages import care_messages
from flows.dispatch_messages import dispatch_messages
from flows.unpaid_reminders import unpaid_order_reminders
from models import AfterSalesCase, Customer, Order, OrderItem, OutboxMessage, Review, Shipment
from models.db import session_scope
from sandbox.planted import plant
from tests.conftest import ANCHOR
from tests.properties.strategies import has_control

pytestmark = pytest.mark.usefixtures("prefect_server")
SHOP = "sishi"
# Template syntax of several engines, HTML, markdown, a NUL and other controls, a line and a
# paragraph separator, a bidi override, emoji with a skin tone and non-BMP characters.
HOSTILE = (
    "{{7*7}}${shop}{% if x %}$var{0}%s<script>alert(1)</script><b>粗</b>|a|b|\n# 标题\r\n"
    "- [链接](javascript:alert(1))\x00\x07\x1b[31m\u2028\u2029\u202e𠀋👍🏽😀"
)
# Markup a renderer would act on, unescaped: HTML tags, a table pipe, a heading line.
LIVE_MARKUP = re.compile(r"(?<!\\)<[a-z/]|(?<!\\)\||^#|\n")


def stored(text: str) -> str:
    """How text is kept: NUL (which PostgreSQL cannot hold) as U+FFFD, all else intact."""
    return text.replace("\x00", "\ufffd")


def artifacts_of(run_id) -> dict[str, object]:
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
        )
    return {a.key: a.data for a in found if a.key}


def test_a_hostile_review_is_kept_whole_and_shown_escaped(settings, sandbox):
    nick = "|<img src=x>" + HOSTILE[:40]
    title = HOSTILE[:60]
    content = "质量太差了[/b][link=file:///x]:smile:" + HOSTILE + "长短" * 50_000
    planted = plant(sandbox.world, "rating", shop=SHOP, nick=nick, content=content, title=title)

    state = bad_review_followups(as_of=ANCHOR, return_state=True)
    assert state.is_completed(), state
    url = settings.database_url
    with session_scope(url) as session:
        review = session.exec(select(Review).where(Review.oid == str(planted["oid"]))).one()
        case = session.exec(
            select(AfterSalesCase).where(AfterSalesCase.review_id == review.id)
        ).one()
        first_contact = session.exec(
            select(OutboxMessage).where(OutboxMessage.case_id == case.id)
        ).one()
    # Stored as the buyer wrote it: 100k characters, emoji and all.
    assert review.content == stored(content) and len(review.content) > 100_000
    assert review.buyer_nick == stored(nick) and review.item_title == stored(title)
    assert case.cause == "quality" and "\n" not in case.summary and not has_control(case.summary)

    # The call list: every text cell is rendered as markdown by the Prefect UI.
    artifacts = artifacts_of(state.state_details.flow_run_id)
    calls = json.loads(str(artifacts["review-call-list"]))
    row = next(r for r in calls if r["案例"] == case.id)
    assert row["买家"] == markdown_text(mask_name(stored(nick)), 40)
    assert row["买家"].startswith("\\|\\*\\*"), "the first character, escaped, then stars"
    for cell in row.values():
        assert not LIVE_MARKUP.search(str(cell)), cell
    # The weekly summary names the item of a quality complaint, escaped.
    summary = str(artifacts["review-weekly-summary"])
    assert markdown_text(stored(title), 80) in summary
    assert "<script>" not in summary and "<b>" not in summary and "\n# 标题" not in summary

    # The staff robot's alert: one line per case, markup made inert.
    alert = next(m.text for m in sandbox.robot_messages if robot_text(mask_name(nick)) in m.text)
    line = next(x for x in alert.splitlines() if f"#{case.id} " in x)
    assert robot_text(one_line(stored(content), 40), 40) in line
    assert "<" not in line and "\x00" not in alert

    # The operator CLI shows the case summary as written (rich markup would raise on "[/b]").
    listing = CliRunner().invoke(app, ["cases", "list", "--kind", "review"])
    assert listing.exit_code == 0, listing.output
    assert "质量太差了[/b][link=file:///x]:smile:" in listing.output

    # The buyer's message: the approved text, the item literal and clean.
    assert first_contact.status == "pending" and not has_control(first_contact.text)
    assert "对{{7*7}}${shop}{% if的评价" in first_contact.text, "the item, cut to 20, literal"


def test_hostile_names_and_titles_reach_reminders_and_care_messages_clean(settings, sandbox):
    name = "<b>张</b>{{name}}\x00\u202e" + "👍🏽" * 40
    nick = "$var{0}𠀋" + HOSTILE[:30]
    title = HOSTILE + "长" * 100_000
    courier = "{{courier}}<i>快递</i>\n|𠀋" + "速" * 100
    unpaid = plant(sandbox.world, "hostile", shop=SHOP, name=name, nick=nick, title=title)
    shipped = plant(sandbox.world, "hostile", shop=SHOP, nick="tb_ship", courier=courier)

    reminders = unpaid_order_reminders(as_of=ANCHOR)
    care = care_messages(as_of=ANCHOR)
    assert reminders["queued"] > 0 and care
    url = settings.database_url
    with session_scope(url) as session:
        customer = session.exec(select(Customer).where(Customer.buyer_nick == stored(nick))).one()
        item = session.exec(
            select(OrderItem)
            .join(Order, Order.id == OrderItem.order_id)  # type: ignore[arg-type]
            .where(Order.tid == str(unpaid["tid"]))
        ).one()
        parcel = session.exec(select(Shipment).where(Shipment.waybill == shipped["waybill"])).one()
        messages = {
            tid: m
            for m, tid in session.exec(
                select(OutboxMessage, Order.tid).join(
                    Order,
                    Order.id == OutboxMessage.order_id,  # type: ignore[arg-type]
                )
            )
            if tid in (str(unpaid["tid"]), str(shipped["tid"]))
        }
    # Kept intact up to each column's length.
    assert customer.name == stored(name)[:60]
    assert item.title == stored(title)[:200]
    assert parcel.courier_name == stored(courier).strip()[:60] and parcel.courier is None

    reminder, notice = messages[str(unpaid["tid"])], messages[str(shipped["tid"])]
    assert reminder.purpose.startswith("unpaid_") and notice.purpose == "care_shipped"
    for message in (reminder, notice):
        assert message.status == "pending", message.reason
        assert not has_control(message.text) and "\n" not in message.text
        assert "${" not in message.text.replace("${shop}{%", ""), "no variable left unfilled"
        for value in json.loads(message.params).values():
            assert len(value.encode("utf-16-le")) // 2 <= 35
    assert "（{{7*7}}${shop}{% if）" in reminder.text, "template syntax stays literal"

    # Sent as rendered: the provider substitutes the same clean values into the same text.
    when = max(m.next_attempt_at for m in (reminder, notice) if m.next_attempt_at)
    sandbox.clock.set(when)
    dispatch_messages(as_of=when)
    for message in (reminder, notice):
        (sent,) = [r for r in sandbox.sms_sent if r.out_id == message.idempotency_key]
        assert sent.content == message.text and sent.params == json.loads(message.params)
    assert "{{courier}}<i>快递</i> |𠀋" in notice.text
