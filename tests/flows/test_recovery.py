"""The manual recovery flows: dry runs change nothing, real runs are idempotent."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
from sqlmodel import func, select

from aftercare.settings import get_settings
from flows.common import start_run
from flows.dispatch_messages import dispatch_messages
from flows.logistics_check import logistics_check
from flows.recheck_shipments import recheck_shipments
from flows.replay_pipeline import replay_pipeline
from flows.resend_failed_messages import resend_failed_messages
from flows.resync_window import resync_window
from models import AfterSalesCase, Order, OutboxMessage, Shop
from models.db import session_scope
from sandbox import FaultConfig
from tests.conftest import ANCHOR
from tests.flows.test_dispatch_messages import queue_messages

pytestmark = [pytest.mark.usefixtures("prefect_server")]
SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def count(url, model, *where):
    with session_scope(url) as session:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()


@SQLITE
def test_resync_window_counts_in_a_dry_run_and_refetches_idempotently(settings, sandbox):
    start, end = ANCHOR - timedelta(days=2), ANCHOR - timedelta(minutes=5)
    expected = {
        t.tid
        for t in sandbox.world.trades.values()
        if t.shop == "sishi" and start <= t.modified <= end
    }
    dry = resync_window(
        shop="sishi", start=start, end=end, streams=["trades"], dry_run=True, as_of=ANCHOR
    )
    assert dry["trades (would re-read)"] == len(expected)
    assert count(settings.database_url, Order) == 0, "a dry run changes nothing"

    real = resync_window(shop="sishi", start=start, end=end, as_of=ANCHOR, dry_run=False)
    assert real["trades trades"] == len(expected)
    with session_scope(settings.database_url) as session:
        tids = set(session.exec(select(Order.tid).join(Shop).where(Shop.code == "sishi")).all())
    assert {int(t) for t in tids} == expected
    again = resync_window(
        shop="sishi", start=start, end=end, as_of=ANCHOR + timedelta(minutes=1), dry_run=False
    )
    assert again["trades trades"] == len(expected) and count(settings.database_url, Order) == len(
        tids
    )


@SQLITE
def test_recheck_shipments_respects_the_30_minute_rule(settings, sandbox):
    logistics_check(as_of=ANCHOR)
    waybills = [p.waybill for p in sandbox.world.shipments.values() if p.scenario == "in_transit"][
        :3
    ]
    before = sum(sandbox.stats.kuaidi100_queries[w] for w in waybills)

    soon = recheck_shipments(waybills=waybills, as_of=ANCHOR + timedelta(minutes=10), dry_run=False)
    assert soon["matched"] == 3 and soon["too_soon_to_query"] == 3 and soon["rechecked"] == 0
    dry = recheck_shipments(waybills=waybills, dry_run=True, as_of=ANCHOR + timedelta(minutes=31))
    assert dry["would_recheck"] == 3
    assert sum(sandbox.stats.kuaidi100_queries[w] for w in waybills) == before

    sandbox.clock.set(ANCHOR + timedelta(minutes=31))
    real = recheck_shipments(waybills=waybills, as_of=ANCHOR + timedelta(minutes=31), dry_run=False)
    assert real["rechecked"] == 3 and real["checked"] == 3
    assert sum(sandbox.stats.kuaidi100_queries[w] for w in waybills) == before + 3
    assert sandbox.stats.kuaidi100_locks == 0

    cases = count(settings.database_url, AfterSalesCase)
    by_kind = recheck_shipments(anomaly="stalled", dry_run=True, as_of=ANCHOR + timedelta(hours=1))
    assert by_kind["matched"] > 0 and count(settings.database_url, AfterSalesCase) == cases


@SQLITE
def test_resend_failed_messages_never_resends_a_sent_one(settings, sandbox, monkeypatch):
    queue_messages(settings.database_url, 4)
    dispatch_messages(as_of=ANCHOR, max_messages=1)  # one goes out before the outage
    monkeypatch.setenv("AFTERCARE_DISPATCH__MAX_ATTEMPTS", "1")
    get_settings.cache_clear()
    sandbox.faults.set("sms", FaultConfig(busy_rate=1.0))
    dispatch_messages(as_of=ANCHOR + timedelta(minutes=1))
    failed = count(settings.database_url, OutboxMessage, OutboxMessage.status == "failed")
    assert failed >= 3 and len(sandbox.sms_sent) >= 1
    sent_before = len(sandbox.sms_sent)

    window = {"start": ANCHOR - timedelta(hours=1), "end": ANCHOR + timedelta(hours=1)}
    dry = resend_failed_messages(**window, dry_run=True, as_of=ANCHOR + timedelta(minutes=5))
    assert sum(dry.values()) == failed and len(sandbox.sms_sent) == sent_before

    sandbox.faults.clear()
    resend_failed_messages(**window, as_of=ANCHOR + timedelta(minutes=6), dry_run=False)
    assert count(settings.database_url, OutboxMessage, OutboxMessage.status == "sent") == 4
    assert len(sandbox.sms_sent) == 4 and len({s.out_id for s in sandbox.sms_sent}) == 4


@SQLITE
def test_replaying_a_pipeline_reports_due_work_and_duplicates_nothing(settings, sandbox):
    dry = replay_pipeline(pipeline="logistics-check", as_of=ANCHOR, dry_run=True)
    assert dry["due"]["parcels due a check"] == 0  # nothing synced yet
    logistics_check(as_of=ANCHOR)
    before = (
        count(settings.database_url, AfterSalesCase),
        count(settings.database_url, OutboxMessage),
    )
    queries = sum(sandbox.stats.kuaidi100_queries.values())
    replay_pipeline(pipeline="logistics-check", as_of=ANCHOR, dry_run=False)
    after = (
        count(settings.database_url, AfterSalesCase),
        count(settings.database_url, OutboxMessage),
    )
    assert after == before and sum(sandbox.stats.kuaidi100_queries.values()) == queries
    with pytest.raises(Exception, match="pipeline"):
        replay_pipeline(pipeline="job2", as_of=ANCHOR)


@SQLITE
def test_recovery_flows_default_to_a_dry_run_that_says_so_and_shows_the_work(settings, sandbox):
    logistics_check(as_of=ANCHOR)
    queries = sum(sandbox.stats.kuaidi100_queries.values())
    later = ANCHOR + timedelta(hours=3)
    state = replay_pipeline(pipeline="logistics-check", as_of=later, return_state=True)
    result = state.result()
    assert result["dry_run"] is True and result["due"]["parcels due a check"] > 0
    assert sum(sandbox.stats.kuaidi100_queries.values()) == queries, "a dry run queried nobody"
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(state.state_details.flow_run_id)
        shown = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run.id]))
        )
    # The run's name says it is a dry run, at the business time in Beijing (13:00 = 05:00 UTC).
    assert run.name == "replay-pipeline · 试运行 · 全部店铺 · 北京时间 11-20 13:00"
    [report] = [a for a in shown if a.type == "markdown"]
    assert "什么都没有做" in report.data and "| 到期查询的包裹 |" in report.data
    for flow in (replay_pipeline, resend_failed_messages, resync_window, recheck_shipments):
        assert flow.parameters.properties["dry_run"]["default"] is True, flow.name


@SQLITE
def test_a_naive_time_is_the_shops_time_everywhere(settings, sandbox):
    naive = ANCHOR.astimezone(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)  # 10:00
    assert start_run(naive) == ANCHOR
    state = dispatch_messages(as_of=naive, return_state=True)
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(state.state_details.flow_run_id)
    assert run.name.endswith("北京时间 11-20 10:00")
