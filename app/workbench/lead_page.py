"""The team lead's page: today's calls, overdue cases, SLA per agent and shop, report charts."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from starlette.responses import Response

from aftercare.clock import local_day_start
from aftercare.report_view import trend_images
from aftercare.rules.report import TEAM, daily_trend, report_days
from aftercare.store.report import report_facts
from aftercare.store.workbench import open_cases
from aftercare.store.workbench_lead import call_progress, kept_per_agent, kept_per_shop
from app.workbench.security import Refused
from app.workbench.views import data_uri
from models.db import session_scope

if TYPE_CHECKING:
    from app.workbench.web import Workbench

TREND_DAYS = 14
OVERDUE_ROWS = 50


class Charts:
    """The report's charts, drawn once per hour and set of shops (drawing takes a second)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._drawn: dict[tuple[str, tuple[str, ...]], list[tuple[str, str]]] = {}

    def get(self, bench: Workbench, shops: list[str]) -> list[tuple[str, str]]:
        now = bench.now()
        key = (now.strftime("%Y%m%d%H"), tuple(shops))
        with self._lock:
            if key not in self._drawn:
                self._drawn = {key: self._draw(bench, shops)}  # only the latest hour is kept
            return self._drawn[key]

    @staticmethod
    def _draw(bench: Workbench, shops: list[str]) -> list[tuple[str, str]]:
        zone = bench.settings.timezone
        days = report_days(local_day_start(bench.now(), zone).date(), TREND_DAYS)
        start, end = local_day_start(days[0], zone), local_day_start(days[-1], zone, days=1)
        with session_scope(bench.settings.database_url) as session:
            cases, messages, payments = report_facts(session=session, start=start, end=end)
        wanted = set(shops)
        from zoneinfo import ZoneInfo

        trend = daily_trend(
            days, ZoneInfo(zone),
            [c for c in cases if c.shop in wanted],
            [m for m in messages if m.shop in wanted],
            [p for p in payments if p.shop in wanted],
        )  # fmt: skip
        if TEAM not in trend:
            return []
        return [(alt, data_uri(png)) for alt, png in trend_images("所选店铺", trend[TEAM])]


def add_lead_page(app: FastAPI, bench: Workbench) -> None:
    """GET /lead: for leads and admins only."""
    charts = Charts()

    @app.get("/lead")
    async def lead(request: Request) -> Response:
        me = bench.agent(request)
        if not me.leads:
            raise Refused(403, "主管看板只对主管和管理员开放")
        now = bench.now()
        zone = bench.settings.timezone
        day_start = local_day_start(now, zone)
        day_end = local_day_start(now, zone, days=1)
        with session_scope(bench.settings.database_url) as session:
            calls = call_progress(session=session, shops=me.shops, day_start=day_start,
                                  day_end=day_end)  # fmt: skip
            shops = kept_per_shop(session=session, shops=me.shops, now=now)
            agents = kept_per_agent(session=session, shops=me.shops, now=now, day_start=day_start)
            soonest = open_cases(session=session, shops=me.shops, kind=None, agent=None,
                                 limit=OVERDUE_ROWS)  # fmt: skip
        overdue = [c for c in soonest if c.next_action_at and c.next_action_at < now]
        return bench.page(
            "lead.html", me=me, calls=calls, shops=shops, agents=agents, overdue=overdue,
            charts=charts.get(bench, me.shops), days=TREND_DAYS, shop_names=bench.shop_names(),
        )  # fmt: skip
