"""A case's page and what an agent does on it: outcomes, assignment, notes, a number's reveal;
and a refund's page with its answer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Request
from starlette.responses import RedirectResponse, Response

from aftercare.case_work import work_case
from aftercare.followup_outcome import CaseNotOpen
from aftercare.rules.anomalies import AnomalyKind, Severity
from aftercare.rules.playbook import play_for
from aftercare.rules.reviews import load_causes
from aftercare.rules.workbench import NOTE_LIMIT, OutcomeForm, outcomes_for, read_outcome_form
from aftercare.store.reships import ReshipRefused
from aftercare.store.workbench import CaseFile, add_note, assign, case_file
from aftercare.store.workbench_users import record_reveal, reveals_of
from app.workbench.security import Agent, Refused
from app.workbench.views import worked_words
from models import WorkbenchUser
from models.db import session_scope

if TYPE_CHECKING:
    from app.workbench.web import Workbench


def _case_id(text: str) -> int:
    if not text.isdigit() or len(text) > 12:
        raise Refused(400, f"案例编号必须是数字，不是「{text[:20]}」")
    return int(text)


def _advice(bench: Workbench, found: CaseFile) -> tuple[str, str]:
    """The suggested script and remedy for the case's cause."""
    case = found.case
    if case.kind == "review":
        causes = {c.name: c for c in load_causes(bench.settings.reviews.causes_file)}
        cause = causes.get(case.cause or "mood") or causes["mood"]
        remedy = cause.remedy
        if case.next_action == "offer_compensation":
            offer = bench.settings.reviews.for_shop(found.shop.code).compensation
            remedy += f"；补偿：{offer}"
        return f"【{cause.label}】{cause.script}", remedy
    try:
        play = play_for(AnomalyKind(case.kind), Severity(case.severity))
    except (ValueError, KeyError):
        return "按店铺规范处理。", ""
    return play.instruction, ""


def add_case_pages(app: FastAPI, bench: Workbench) -> None:
    """The case's page and its forms; the refund's page and its answer."""

    def load(me: Agent, case_id: int) -> CaseFile:
        with session_scope(bench.settings.database_url) as session:
            found = case_file(session=session, case_id=case_id)
            if found is None:
                raise Refused(404, f"没有案例 {case_id}")
            if found.shop.code not in me.shops:
                raise Refused(403, "这个案例属于您不负责的店铺")
            return found

    def show(me: Agent, found: CaseFile, status: int = 200, **extra: Any) -> Response:
        script, remedy = _advice(bench, found)
        reveals = []
        if me.leads:
            with session_scope(bench.settings.database_url) as session:
                reveals = reveals_of(session=session, case_id=found.case.id or 0)
        extra.setdefault("errors", {})
        extra.setdefault("form", {})
        return bench.page(
            "case.html", status, me=me, file=found, c=found.case, script=script, remedy=remedy,
            outcomes=outcomes_for(found.case.kind), agents=bench.agents_for([found.shop.code]),
            reveals=reveals, **extra,
        )  # fmt: skip

    def back(case_id: int, said: str) -> Response:
        return RedirectResponse(f"/cases/{case_id}?flash={quote(said)}", status_code=303)

    @app.get("/cases/{ref}")
    async def case_page(request: Request, ref: str, flash: str = "") -> Response:
        me = bench.agent(request)
        return show(me, load(me, _case_id(ref)), flash=flash[:300] or None)

    @app.post("/cases/{ref}/outcome")
    async def outcome(request: Request, ref: str) -> Response:
        me, fields = await bench.posted(request)
        found = load(me, _case_id(ref))
        case = found.case
        if case.state != "open":
            raise Refused(409, f"案例 {case.id} 已经关闭，不能再记录结果")
        zone = ZoneInfo(found.shop.timezone or bench.settings.timezone)
        read = read_outcome_form(case.kind, fields, now=bench.now(), zone=zone)
        if not isinstance(read, OutcomeForm):
            return show(me, found, 400, errors=read, form=fields)
        try:
            worked = work_case(bench.settings, case.id or 0, read, me.username, bench.now())
        except ReshipRefused as refused:
            return show(me, found, 400, errors={"waybill": str(refused)}, form=fields)
        except CaseNotOpen:
            raise Refused(409, f"案例 {case.id} 已经不在处理中（可能刚被别人关闭）") from None
        return back(case.id or 0, worked_words(worked))

    @app.post("/cases/{ref}/assign")
    async def assign_case(request: Request, ref: str) -> Response:
        me, fields = await bench.posted(request)
        found = load(me, _case_id(ref))
        to = fields.get("agent", "").strip() or None
        if not me.leads and to not in (None, me.username):
            raise Refused(403, "客服只能把案例分给自己，或退回店铺队列")
        if not me.leads and to is None and found.case.assigned_to != me.username:
            raise Refused(403, "只有负责人或主管可以退回这个案例")
        if to is not None and to not in bench.agents_for([found.shop.code]):
            return show(me, found, 400, errors={"agent": f"{to[:40]} 不负责这个店铺"})
        with session_scope(bench.settings.database_url) as session:
            done = assign(session=session, case_id=found.case.id or 0, agent=to,
                          by=me.username, now=bench.now())  # fmt: skip
        if not done:
            raise Refused(409, "案例已经关闭，不能再分配")
        return back(found.case.id or 0, f"已分配给 {to}" if to else "已退回店铺队列")

    @app.post("/cases/{ref}/note")
    async def note(request: Request, ref: str) -> Response:
        me, fields = await bench.posted(request)
        found = load(me, _case_id(ref))
        text = fields.get("text", "").strip()
        if not text or len(text) > NOTE_LIMIT:
            problem = "备注不能为空" if not text else f"备注最多 {NOTE_LIMIT} 字"
            return show(me, found, 400, errors={"text": problem})
        from aftercare.privacy import redact

        with session_scope(bench.settings.database_url) as session:
            add_note(session=session, case_id=found.case.id or 0, text=redact(text),
                     by=me.username, now=bench.now())  # fmt: skip
        return back(found.case.id or 0, "备注已添加")

    @app.post("/cases/{ref}/reveal")
    async def reveal(request: Request, ref: str) -> Response:
        me, _ = await bench.posted(request)
        found = load(me, _case_id(ref))
        if not me.can_reveal:
            raise Refused(403, "您没有查看完整号码的权限，请联系主管")
        phone = found.order.receiver_phone if found.order else None
        if not phone:
            raise Refused(404, "这个案例没有可显示的号码")
        with session_scope(bench.settings.database_url) as session:
            user = session.get(WorkbenchUser, me.id)
            assert user is not None
            record_reveal(session=session, user=user, case_id=found.case.id or 0,
                          reason="call", now=bench.now())  # fmt: skip
        # Shown in this one answer only (not cached, not in a URL, not logged).
        return show(me, found, revealed=phone)

    from app.workbench.refund_page import add_refund_page

    add_refund_page(app, bench)
