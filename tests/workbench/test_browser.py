"""An agent's day in a real headless Chromium: sign in, work cases from the queue to closed,
record every outcome, reveal a number (audited), and be refused where they must be."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import col, select

from aftercare.clock import CHINA
from aftercare.rules.workbench import (
    LOGISTICS_OUTCOMES,
    OUTCOME_NAMES,
    REVIEW_OUTCOMES,
    CaseOutcome,
)
from models import AfterSalesCase, CaseEvent, OutboxMessage, PhoneReveal, Shipment, Shop
from models.db import session_scope
from tests.conftest import ANCHOR
from tests.workbench.conftest import PASSWORD, Bench

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]
SCREENSHOTS = os.environ.get("AFTERCARE_WORKBENCH_SCREENSHOTS")  # folder: keep the pages seen


@pytest.fixture
def page(bench: Bench) -> Iterator[object]:
    """A fresh browser page (Playwright driving the system's Chromium)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(20_000)
        yield context.new_page()
        browser.close()


def snap(page, name: str) -> None:
    """Keep what the browser shows (the README's screenshots are taken this way)."""
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"workbench-{name}.png"))


def sign_in(page, bench: Bench, username: str) -> None:
    page.goto(f"{bench.url}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{bench.url}/queue")


def open_cases(bench: Bench, shops: tuple[str, ...], review: bool) -> list[int]:
    with session_scope(bench.settings.database_url) as session:
        kind = col(AfterSalesCase.kind) == "review"
        return list(
            session.exec(
                select(AfterSalesCase.id)
                .join(Shop, col(Shop.id) == AfterSalesCase.shop_id)
                .where(
                    AfterSalesCase.state == "open",
                    col(Shop.code).in_(shops),
                    kind if review else ~kind,
                    col(AfterSalesCase.order_id).is_not(None) | kind,
                )
                .order_by(col(AfterSalesCase.id))
            ).all()
        )


def events(bench: Bench, case_id: int) -> list[CaseEvent]:
    with session_scope(bench.settings.database_url) as session:
        return list(session.exec(select(CaseEvent).where(CaseEvent.case_id == case_id)).all())


def record(page, bench: Bench, case_id: int, outcome: CaseOutcome, **fields: str) -> None:
    page.goto(f"{bench.url}/cases/{case_id}")
    page.select_option("#outcome-select", outcome.value)
    for name, value in fields.items():
        page.fill(f"#{name}", value)
    page.click("#outcome button[type=submit]")


def test_an_agent_works_the_day_in_the_browser(bench: Bench, page) -> None:
    sign_in(page, bench, "xiaowang")
    rows = page.locator("#queue tbody tr")
    assert rows.count() > 10
    shops_seen = {
        r.split("\t")[2]
        for r in page.locator("#queue tbody").inner_text().splitlines()
        if "\t" in r
    }
    with session_scope(bench.settings.database_url) as session:
        names = dict(session.exec(select(Shop.code, Shop.name)).all())
    assert names["mumu"] not in shops_seen, "an agent sees only the shops assigned"
    snap(page, "queue")

    # A review case from the queue: a typo is a form error, nothing recorded.
    page.goto(f"{bench.url}/queue?kind=review")
    page.locator("#queue tbody tr a").first.click()
    review_case = int(page.url.rsplit("/", 1)[1])
    before = len(events(bench, review_case))
    page.select_option("#outcome-select", "declined")
    page.fill("#next_contact", "2026-11-19T10:00")  # the day before: not in the future
    page.click("#outcome button[type=submit]")
    assert "必须在现在之后" in page.locator(".error").inner_text()
    assert len(events(bench, review_case)) == before, "a refused form writes nothing"
    snap(page, "form-error")

    # Every review outcome, each on a case of its own, with the agreed time (核实时间).
    reviews = open_cases(bench, ("sishi", "xiaoya"), review=True)
    agreed = (ANCHOR + timedelta(days=1)).astimezone(CHINA).strftime("%Y-%m-%dT15:30")
    ladder = [o for o in REVIEW_OUTCOMES if o is not CaseOutcome.RESHIPPED]
    assert len(reviews) >= len(ladder)
    for case_id, outcome in zip(reviews, ladder, strict=False):
        record(page, bench, case_id, outcome, next_contact=agreed, note=f"打了电话：{outcome}")
        assert "已记录" in page.locator(".flash").inner_text(), outcome
        said = f"联系结果·{OUTCOME_NAMES[outcome]}"
        assert page.locator("#history").inner_text().count(said) == 1
    with session_scope(bench.settings.database_url) as session:
        first = session.get(AfterSalesCase, reviews[0])
        assert first is not None and first.last_outcome == "agreed_to_revise"
        assert first.next_action_at is not None
        assert first.next_action_at.astimezone(CHINA).strftime("%Y-%m-%dT%H:%M") == agreed
        thanks = session.exec(
            select(OutboxMessage).where(
                OutboxMessage.case_id == reviews[0],
                OutboxMessage.purpose == "review_revision_reminder",
            )
        ).all()
        assert len(thanks) == 1, "agreeing to revise queues the buyer's reminder once"

    # A logistics case worked to closed: courier pushed, a bad and a good reship, resolved.
    logistics = open_cases(bench, ("sishi", "xiaoya"), review=False)
    case_id = logistics[0]
    record(page, bench, case_id, CaseOutcome.COURIER_PUSHED, note="已联系网点催件")
    assert "已记录" in page.locator(".flash").inner_text()
    record(page, bench, case_id, CaseOutcome.RESHIPPED, courier="中通快递", waybill="12")
    assert "6-40" in page.locator("[data-field=waybill]").inner_text()
    record(page, bench, case_id, CaseOutcome.RESHIPPED, courier="中通快递", waybill="ZT7788990011")
    assert "补发" in page.locator(".flash").inner_text()
    with session_scope(bench.settings.database_url) as session:
        assert session.exec(select(Shipment).where(Shipment.waybill == "ZT7788990011")).one()
    snap(page, "case")
    record(page, bench, case_id, CaseOutcome.RESOLVED, note="买家已收到补发")
    assert "已关闭" in page.locator("h2").inner_text()
    with session_scope(bench.settings.database_url) as session:
        closed = session.get(AfterSalesCase, case_id)
        assert closed is not None and closed.state == "closed"
        assert "买家已收到补发" in (closed.close_reason or "")
    # The remaining logistics outcomes, each once.
    rest = [o for o in LOGISTICS_OUTCOMES if o not in (CaseOutcome.RESOLVED, CaseOutcome.RESHIPPED)]
    for other, outcome in zip(logistics[1:], rest, strict=False):
        record(page, bench, other, outcome, next_contact=agreed)
        assert "已记录" in page.locator(".flash").inner_text(), outcome

    # Reveal a number for a call: shown once, audited.
    target = next(c for c in logistics[1:] if page.goto(f"{bench.url}/cases/{c}") and
                  page.locator("form[action$='/reveal']").count())  # fmt: skip
    masked = page.locator("#phone").inner_text()
    assert "****" in masked
    page.click("form[action$='/reveal'] button")
    revealed = page.locator("#phone").inner_text()
    assert "****" not in revealed and revealed.strip().isdigit()
    with session_scope(bench.settings.database_url) as session:
        audit = session.exec(select(PhoneReveal).where(PhoneReveal.case_id == target)).all()
        assert [(a.username, a.at) for a in audit] == [("xiaowang", ANCHOR)]
    page.goto(f"{bench.url}/cases/{target}")
    assert "****" in page.locator("#phone").inner_text(), "masked again on the next view"

    # Another shop's case by id: 403, nothing of it shown.
    mumu = open_cases(bench, ("mumu",), review=False) + open_cases(bench, ("mumu",), review=True)
    answer = page.goto(f"{bench.url}/cases/{mumu[0]}")
    assert answer is not None and answer.status == 403
    assert "不负责的店铺" in page.content()

    # A post without our form token (what another site could make the browser send): refused.
    forged = page.request.post(f"{bench.url}/cases/{logistics[1]}/note", form={"text": "forged"})
    assert forged.status == 403
    assert not [e for e in events(bench, logistics[1]) if e.note == "forged"]


def test_the_lead_sees_progress_overdue_and_service_levels(bench: Bench, page, sandbox) -> None:
    sign_in(page, bench, "lead")
    review = open_cases(bench, ("sishi", "xiaoya"), review=True)[0]
    page.goto(f"{bench.url}/cases/{review}")
    page.select_option("#assign select", "xiaowang")
    page.click("#assign button")
    assert "已分配给 xiaowang" in page.locator(".flash").inner_text()
    record(page, bench, review, CaseOutcome.UNREACHABLE)
    page.goto(f"{bench.url}/lead")
    calls = page.locator("#calls").inner_text()
    assert "已联系 1 个" in calls
    assert "xiaowang" in page.locator("#per-agent").inner_text()
    assert page.locator("#charts img").count() == 3
    snap(page, "lead")
    page.goto(f"{bench.url}/queue?agent=xiaowang")
    assert page.locator("#queue tbody tr").count() == 1
    # Two days on, nobody worked anything: the lead sees it late, per agent and shop.
    sandbox.clock.set(ANCHOR + timedelta(days=2))
    page.goto(f"{bench.url}/lead")
    assert page.url == f"{bench.url}/login", "a sign-in lasts 12 hours"
    sign_in(page, bench, "lead")
    page.goto(f"{bench.url}/lead")
    agent_row = page.locator("#per-agent tr", has_text="xiaowang").inner_text().split("\t")
    assert agent_row[1:4] == ["1", "1", "0%"], agent_row
    assert page.locator("#overdue tbody tr").count() > 1
