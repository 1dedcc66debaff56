"""The problem register (登记表格) kept current, and purchasing's summaries published."""

from __future__ import annotations

from datetime import datetime

from prefect.artifacts import create_table_artifact

from aftercare.clock import CHINA
from aftercare.rules.register import LOST, QUALITY, month_of, summary, week_of
from aftercare.settings import get_settings
from aftercare.store.register import entries_since, register_problems
from models.db import session_scope
from tasks.policy import pipeline_task


@pipeline_task("register-problems")
def register_and_summarise(as_of: datetime) -> dict[str, int]:
    """Register new problems; publish this month's lost parcels and this week's quality
    problems per item (and who is answerable)."""
    month, week = month_of(as_of), week_of(as_of)
    with session_scope(get_settings().database_url) as session:
        new = register_problems(session=session, now=as_of)
        entries = entries_since(session=session, since=min(month[0], week[0]))
    lost = summary(entries, LOST, *month)
    quality = summary(entries, QUALITY, *week)
    create_table_artifact(
        key="lost-parcels-monthly",
        table=lost or [{"商品": "-", "责任方": "-", "件数": 0, "金额": "0"}],
        description=f"{month[0]:%Y年%m月} 丢件登记，按商品和快递（截至北京时间 "
        f"{as_of.astimezone(CHINA):%m-%d %H:%M}）",
    )
    create_table_artifact(
        key="quality-weekly",
        table=quality or [{"商品": "-", "责任方": "-", "件数": 0, "金额": "0"}],
        description=f"{week[0]:%m月%d日}起一周的质量问题登记，按商品（给采购）",
    )
    return {
        "problems_registered": new,
        "lost_parcels_this_month": sum(int(str(r["件数"])) for r in lost),
        "quality_problems_this_week": sum(int(str(r["件数"])) for r in quality),
    }
