"""A refund waiting for the seller: its facts, what the rules propose, and the agent's answer."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from fastapi import FastAPI, Request
from starlette.responses import RedirectResponse, Response

from aftercare import clients
from aftercare.refund_answers import (
    ALREADY,
    CHANGED,
    DONE,
    FAILED,
    AnswerRefused,
    agents_answer,
    answer_refund,
)
from aftercare.rules.refunds import AGREE, AGREE_RETURN, INTERCEPT, REFUSE, propose, time_left_words
from aftercare.store.refund_actions import ActionCandidate, waiting_for_answer
from app.workbench.security import Agent, Refused
from models.db import session_scope

if TYPE_CHECKING:
    from app.workbench.web import Workbench

ACTION_LABELS = (
    (AGREE, "同意退款"),
    (AGREE_RETURN, "同意退货（发退货地址）"),
    (REFUSE, "拒绝（写明理由）"),
    (INTERCEPT, "拦截包裹"),
)
SAID = {
    DONE: "已在平台完成",
    ALREADY: "之前已经处理过，本次没有重复提交",
    CHANGED: "买家刚修改了退款，请重新查看后再决定",
    FAILED: "平台拒绝了这个操作，已记录，不会自动重试",
}


def add_refund_page(app: FastAPI, bench: Workbench) -> None:
    """GET /refunds/{id} and its answer."""

    def load(me: Agent, refund_id: str) -> ActionCandidate:
        if not refund_id.isalnum() or len(refund_id) > 32:
            raise Refused(400, f"退款编号不对：「{refund_id[:32]}」")
        with session_scope(bench.settings.database_url) as session:
            found = waiting_for_answer(session=session, refund_id=refund_id)
        if not found:
            raise Refused(404, f"退款 {refund_id} 不在等待卖家处理的列表中")
        if found[0].shop_code not in me.shops:
            raise Refused(403, "这个退款属于您不负责的店铺")
        return found[0]

    def show(me: Agent, r: ActionCandidate, status: int = 200, **extra: object) -> Response:
        settings = bench.settings
        plan = propose(
            r.kind, r.status, r.has_good_return, r.fee, settings.refunds.auto_for(r.shop_code),
            r.delivered_at, r.in_transit,
        )  # fmt: skip
        extra.setdefault("form", {})
        extra.setdefault("error", None)
        return bench.page(
            "refund.html", status, me=me, r=r, plan=plan, actions=ACTION_LABELS,
            left=time_left_words(r.seller_deadline, bench.now()),
            shop_names=bench.shop_names(), **extra,
        )  # fmt: skip

    @app.get("/refunds/{refund_id}")
    async def refund_page(request: Request, refund_id: str) -> Response:
        me = bench.agent(request)
        return show(me, load(me, refund_id))

    @app.post("/refunds/{refund_id}/answer")
    async def answer(request: Request, refund_id: str) -> Response:
        me, fields = await bench.posted(request)
        refund = load(me, refund_id)
        try:
            given = agents_answer(bench.settings, refund, fields.get("action", ""),
                                  fields.get("reason"))  # fmt: skip
        except AnswerRefused as refused:
            return show(me, refund, 400, form=fields, error=f"未提交：{refused}")
        outcome = answer_refund(
            bench.settings, refund, given, bench.now(), f"agent:{me.username}"[:40],
            clients.taobao(bench.settings),
        )  # fmt: skip
        said = f"退款 {refund_id}：" + SAID.get(outcome, "暂时无法读取退款，请稍后再试")
        return RedirectResponse(f"/queue?kind=refund&flash={quote(said)}", status_code=303)
