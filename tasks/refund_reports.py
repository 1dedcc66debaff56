"""What the refunds pipeline reports: refunds by kind, open ones with their time left."""

from __future__ import annotations

from datetime import datetime

from prefect.artifacts import create_table_artifact

from aftercare.clock import CHINA
from aftercare.rules.refunds import KINDS, STATUS_NAMES, next_step, time_left_words
from aftercare.settings import get_settings
from aftercare.store.refunds import open_refunds, refund_figures
from models.db import session_scope
from tasks.policy import pipeline_task


@pipeline_task("refund-report")
def refund_report(as_of: datetime, margins: list[float]) -> dict[str, int | str]:
    """Publish the open refunds soonest-deadline first; return counts by kind and the timer's."""
    with session_scope(get_settings().database_url) as session:
        figures = refund_figures(session=session)
        waiting = open_refunds(session=session)
    rows = [
        {
            "类型": KINDS.get(r.kind, KINDS["other"]).name,
            "店铺": r.shop_code,
            "退款": r.refund_id,
            "订单": r.tid,
            "金额": r.refund_fee,
            "状态": STATUS_NAMES.get(r.status, r.status),
            "剩余时间": time_left_words(r.seller_deadline, as_of),
            "下一步": next_step(r.kind, r.status),
        }
        for r in waiting
    ]
    create_table_artifact(
        key="refunds-time-left",
        table=rows or [{"类型": "-", "下一步": "没有处理中的退款"}],
        description=f"处理中的退款，按剩余时间排序（北京时间 {as_of.astimezone(CHINA):%m-%d %H:%M}"
        f"；提醒时点：剩 {' / '.join(f'{m:g}' for m in margins)} 小时）",
    )
    by_kind = {
        f"refund kind:{KINDS.get(k, KINDS['other']).name}": n for k, n in figures["by_kind"].items()
    }
    timed = [r for r in waiting if r.seller_deadline is not None]
    return {
        "refunds_open": len(waiting),
        "soonest_time_left": time_left_words(timed[0].seller_deadline, as_of) if timed else "-",
        "refunds_decided_by_timer": sum(figures["decided_by_timer"].values()),
        **by_kind,
    }
