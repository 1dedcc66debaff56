"""What an agent may record on a case in the workbench, and how its forms are read."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from aftercare.rules.couriers import waybill_problem
from aftercare.rules.reviews import Outcome, WorkingHours

ROLES = ("agent", "lead", "admin")
NOTE_LIMIT = 500
# An agreed next contact further out than this is a typo (a year, a month), not a plan.
FURTHEST_CONTACT = timedelta(days=30)
USERNAME = re.compile(r"[a-z][a-z0-9_.-]{1,39}")


class CaseOutcome(StrEnum):
    """What working a case came to: the review ladder's outcomes and the logistics ones."""

    AGREED_TO_REVISE = Outcome.AGREED_TO_REVISE.value
    DECLINED = Outcome.DECLINED.value
    COMPENSATION_ACCEPTED = Outcome.COMPENSATION_ACCEPTED.value
    COMPENSATION_DECLINED = Outcome.COMPENSATION_DECLINED.value
    UNREACHABLE = Outcome.UNREACHABLE.value
    MALICIOUS_REPORTED = Outcome.MALICIOUS_REPORTED.value
    COURIER_PUSHED = "courier_pushed"
    RESHIPPED = "reshipped"
    RESOLVED = "resolved"


OUTCOME_NAMES = {
    CaseOutcome.AGREED_TO_REVISE: "同意改评",
    CaseOutcome.DECLINED: "拒绝改评",
    CaseOutcome.COMPENSATION_ACCEPTED: "接受补偿",
    CaseOutcome.COMPENSATION_DECLINED: "拒绝补偿",
    CaseOutcome.UNREACHABLE: "联系不上",
    CaseOutcome.MALICIOUS_REPORTED: "恶意差评已投诉",
    CaseOutcome.COURIER_PUSHED: "已催快递",
    CaseOutcome.RESHIPPED: "已补发",
    CaseOutcome.RESOLVED: "已解决",
}
REVIEW_OUTCOMES = (*(CaseOutcome(o.value) for o in Outcome), CaseOutcome.RESHIPPED)
LOGISTICS_OUTCOMES = (
    CaseOutcome.COURIER_PUSHED,
    CaseOutcome.RESHIPPED,
    CaseOutcome.COMPENSATION_ACCEPTED,
    CaseOutcome.UNREACHABLE,
    CaseOutcome.RESOLVED,
)


def outcomes_for(kind: str) -> tuple[CaseOutcome, ...]:
    """The outcomes an agent may record on a case of this kind."""
    return REVIEW_OUTCOMES if kind == "review" else LOGISTICS_OUTCOMES


@dataclass(frozen=True, slots=True)
class OutcomeForm:
    """An outcome form that passed every check: what to record, times in UTC."""

    outcome: CaseOutcome
    note: str
    next_contact_at: datetime | None
    courier: str = ""
    waybill: str = ""


def read_local_time(text: str, zone: ZoneInfo) -> datetime | None:
    """Read a browser's local date and time ("2026-12-05T14:30" or with a space) in `zone`."""
    text = text.strip().replace(" ", "T")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        return None
    return moment.replace(tzinfo=zone).astimezone(ZoneInfo("UTC"))


def read_outcome_form(
    kind: str, fields: Mapping[str, str], *, now: datetime, zone: ZoneInfo
) -> OutcomeForm | dict[str, str]:
    """Check an outcome form; return it read, or a message per field (nothing is recorded)."""
    errors: dict[str, str] = {}
    chosen = fields.get("outcome", "").strip()
    offered = outcomes_for(kind)
    outcome = CaseOutcome(chosen) if chosen in {o.value for o in offered} else None
    if outcome is None:
        errors["outcome"] = (
            "请选择本次联系的结果（此类案例可选："
            + "、".join(OUTCOME_NAMES[o] for o in offered)
            + "）"
        )
    note = fields.get("note", "").strip()
    if len(note) > NOTE_LIMIT:
        errors["note"] = f"备注最多 {NOTE_LIMIT} 字（现在 {len(note)} 字）"
    if outcome is CaseOutcome.RESOLVED and len(note) < 2:
        errors["note"] = "标记已解决时请写明怎么解决的"
    agreed = None
    when = fields.get("next_contact", "").strip()
    if when:
        agreed = read_local_time(when, zone)
        if agreed is None:
            errors["next_contact"] = f"无法识别的时间「{when[:30]}」，请用 年-月-日 时:分"
        elif agreed <= now:
            errors["next_contact"] = "约定的下次联系时间（核实时间）必须在现在之后"
        elif agreed - now > FURTHEST_CONTACT:
            errors["next_contact"] = "约定的下次联系时间不能晚于 30 天后，请检查年份和月份"
    courier = fields.get("courier", "").strip()
    waybill = fields.get("waybill", "").strip()
    if outcome is CaseOutcome.RESHIPPED:
        if not courier or len(courier) > 60:
            errors["courier"] = "请填写补发的快递公司（如 中通快递）"
        if waybill_problem(waybill):
            errors["waybill"] = "补发单号应为 6-40 位字母、数字或短横线"
    if errors or outcome is None:
        return errors
    return OutcomeForm(outcome, note, agreed, courier, waybill)


@dataclass(frozen=True, slots=True)
class CaseStep:
    """A logistics case's next step after an outcome; close_reason set means it is closed."""

    action: str | None
    at: datetime | None
    close_reason: str | None = None


def after_logistics_outcome(
    outcome: CaseOutcome, *, now: datetime, agreed: datetime | None, hours: WorkingHours, note: str
) -> CaseStep:
    """The next step of a logistics case once an agent has worked it."""
    if outcome is CaseOutcome.RESOLVED:
        return CaseStep(None, None, f"resolved by an agent: {note}"[:200])
    next_day = agreed or hours.next_start(now, days_later=1)
    if outcome is CaseOutcome.COURIER_PUSHED:
        return CaseStep("check_courier_reply", next_day)
    if outcome is CaseOutcome.RESHIPPED:
        # The new parcel is tracked on its own; look at the case again once it should be moving.
        return CaseStep("track_reship", agreed or hours.next_start(now, days_later=2))
    if outcome is CaseOutcome.COMPENSATION_ACCEPTED:
        return CaseStep("confirm_compensation", next_day)
    return CaseStep("call_again", next_day)


def visible_shops(role: str, shops: str, every_shop: list[str]) -> list[str]:
    """The shops a user works: an admin every shop, a lead without a list too, an agent only
    those assigned (none assigned: none)."""
    mine = [code.strip() for code in shops.split(",") if code.strip()]
    if role == "admin" or (role == "lead" and not mine):
        return list(every_shop)
    return [code for code in mine if code in every_shop]
