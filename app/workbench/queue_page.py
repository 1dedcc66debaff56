"""The queue: every open case of every kind in the agent's shops, soonest due first."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from fastapi import FastAPI, Request
from sqlmodel import col, select
from starlette.responses import RedirectResponse, Response

from aftercare.rules.anomalies import AnomalyKind
from aftercare.store.operator import im_handoffs, mark_handed_off
from aftercare.store.refund_actions import waiting_for_answer
from aftercare.store.workbench import UNASSIGNED, open_cases, open_counts
from app.workbench.security import Refused
from app.workbench.views import Row, due_order
from models import OutboxMessage, Shop
from models.db import session_scope

if TYPE_CHECKING:
    from app.workbench.web import Workbench

KINDS = ("review", *(k.value for k in AnomalyKind), "refund", "handoff")


def queue_rows(
    bench: Workbench, shops: list[str], kind: str | None, agent: str | None, limit: int
) -> tuple[list[Row], dict[str, tuple[int, int]]]:
    """The first `limit` rows of the merged queue, and open/overdue counts per kind."""
    now = bench.now()
    rows: list[Row] = []
    with session_scope(bench.settings.database_url) as session:
        counts = open_counts(session=session, shops=shops, now=now)
        if kind not in ("refund", "handoff"):
            for c in open_cases(session=session, shops=shops, kind=kind, agent=agent, limit=limit):
                rows.append(
                    Row(
                        c.kind,
                        c.shop,
                        f"/cases/{c.id}",
                        f"case:{c.id}",
                        c.summary,
                        c.next_action_at,
                        c.deadline_at,
                        c.next_action,
                        c.assigned_to,
                        c.severity,
                        c.tid,
                        c.payment,
                    )
                )
        # Refunds and chat hand-offs belong to the shop, not to one agent.
        refunds = waiting_for_answer(session=session, shops=shops) if shops else []
        handoffs = im_handoffs(session=session, shop=None, shops=shops, limit=limit)
    late = sum(1 for r in refunds if r.seller_deadline and r.seller_deadline < now)
    if refunds:
        counts["refund"] = (len(refunds), late)
    if handoffs:
        counts["handoff"] = (len(handoffs), 0)
    if not agent and kind in (None, "refund"):
        rows += [
            Row(
                "refund",
                r.shop_code,
                f"/refunds/{r.refund_id}",
                f"refund:{r.refund_id}",
                r.kind,
                r.seller_deadline,
                r.seller_deadline,
                "answer_refund",
                tid=r.tid,
                amount=r.fee,
            )
            for r in refunds[:limit]
        ]
    if not agent and kind in (None, "handoff"):
        rows += [
            Row(
                "handoff",
                h.shop,
                "/queue?kind=handoff",
                f"handoff:{h.message_id}",
                h.purpose,
                h.created_at,
                None,
                "send_in_chat",
                tid=h.tid,
                handoff_id=h.message_id,
                text=h.text,
            )
            for h in handoffs
        ]
    rows.sort(key=due_order)
    return rows[:limit], counts


def add_queue_page(app: FastAPI, bench: Workbench) -> None:
    """GET /queue and the chat hand-off's "sent" button."""

    @app.get("/queue")
    async def queue(
        request: Request, shop: str = "", kind: str = "", agent: str = "", flash: str = ""
    ) -> Response:
        me = bench.agent(request)
        if shop and shop not in me.shops:
            raise Refused(403, f"店铺 {shop[:40]} 不在您负责的店铺中")
        if kind and kind not in KINDS:
            raise Refused(400, f"没有这种类型：{kind[:40]}")
        shops = [shop] if shop else me.shops
        limit = bench.settings.workbench.queue_rows
        rows, counts = queue_rows(bench, shops, kind or None, agent or None, limit)
        return bench.page(
            "queue.html",
            me=me,
            rows=rows,
            counts=counts,
            shop=shop,
            kind=kind,
            agent=agent,
            kinds=KINDS,
            agents=bench.agents_for([]),
            shop_names=bench.shop_names(),
            limit=limit,
            flash=flash[:200] or None,
            unassigned=UNASSIGNED,
        )

    @app.post("/handoffs/{message_id}/sent")
    async def handoff_sent(request: Request, message_id: str) -> Response:
        me, _ = await bench.posted(request)
        if not message_id.isdigit():
            raise Refused(400, "消息编号必须是数字")
        with session_scope(bench.settings.database_url) as session:
            shop = session.exec(
                select(Shop.code)
                .join(OutboxMessage, col(OutboxMessage.shop_id) == Shop.id)
                .where(OutboxMessage.id == int(message_id))
            ).first()
            if shop is None:
                raise Refused(404, f"没有消息 {message_id}")
            if shop not in me.shops:
                raise Refused(403, "这条消息属于您不负责的店铺")
            done = mark_handed_off(
                session=session, message_id=int(message_id), agent=me.username, now=bench.now()
            )
        said = "已记录为在千牛发送" if done else "这条消息已经处理过了"
        return RedirectResponse(f"/queue?kind=handoff&flash={quote(said)}", status_code=303)
