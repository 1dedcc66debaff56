"""Turning the anomalies seen now into case changes and buyer notices for one parcel."""

from __future__ import annotations

from dataclasses import dataclass, field

from aftercare.rules.anomalies import Anomaly, AnomalyKind, Severity
from aftercare.rules.playbook import NOTICE_PRIORITY, play_for


@dataclass(frozen=True, slots=True)
class ExistingCase:
    """A case already on file for the parcel."""

    kind: AnomalyKind
    severity: Severity
    is_open: bool


@dataclass(frozen=True, slots=True)
class CaseChange:
    """Open, escalate, reopen or close one case."""

    action: str  # opened | escalated | reopened | closed
    kind: AnomalyKind
    severity: Severity
    note: str


@dataclass(frozen=True, slots=True)
class NoticeDecision:
    """A notice for the buyer; suppressed_reason set means it is recorded but not sent."""

    template: str
    kind: AnomalyKind
    severity: Severity
    suppressed_reason: str | None = None


@dataclass(slots=True)
class CasePlan:
    """Everything to write for one parcel."""

    changes: list[CaseChange] = field(default_factory=list)
    notices: list[NoticeDecision] = field(default_factory=list)


def plan_cases(
    existing: dict[AnomalyKind, ExistingCase],
    anomalies: list[Anomaly],
    delivered: bool,
    observed: bool = True,
) -> CasePlan:
    """Decide case changes and notices; one notice per parcel per check, the most pressing.

    observed=False (the last check failed) means what was not seen may still be there, so no
    case is closed as cleared.
    """
    plan = CasePlan()
    seen = {a.kind for a in anomalies}
    raised: list[Anomaly] = []
    for anomaly in anomalies:
        case = existing.get(anomaly.kind)
        if case is None:
            plan.changes.append(
                CaseChange("opened", anomaly.kind, anomaly.severity, anomaly.detail)
            )
            raised.append(anomaly)
        elif not case.is_open:
            plan.changes.append(
                CaseChange("reopened", anomaly.kind, anomaly.severity, anomaly.detail)
            )
            raised.append(anomaly)
        elif case.severity is Severity.MINOR and anomaly.severity is Severity.SERIOUS:
            plan.changes.append(
                CaseChange("escalated", anomaly.kind, anomaly.severity, anomaly.detail)
            )
            raised.append(anomaly)
    for kind, case in existing.items():
        if not case.is_open or kind in seen or not observed:
            continue
        play = play_for(kind, case.severity)
        if delivered and play.closes_on_delivery:
            plan.changes.append(CaseChange("closed", kind, case.severity, "delivered"))
        elif play.clears_itself:
            plan.changes.append(CaseChange("closed", kind, case.severity, "no longer observed"))
    plan.notices = _choose_notices(raised)
    return plan


def _choose_notices(raised: list[Anomaly]) -> list[NoticeDecision]:
    with_notice = [a for a in raised if play_for(a.kind, a.severity).notice]
    if not with_notice:
        return []
    rank = {key: i for i, key in enumerate(NOTICE_PRIORITY)}
    with_notice.sort(key=lambda a: rank.get((a.kind, a.severity), len(rank)))
    chosen, *others = with_notice
    decisions = [_notice(chosen)]
    for other in others:
        decisions.append(
            _notice(other, f"one notice per parcel at a time: {chosen.kind} was chosen instead")
        )
    return decisions


def _notice(anomaly: Anomaly, suppressed_reason: str | None = None) -> NoticeDecision:
    template = play_for(anomaly.kind, anomaly.severity).notice
    assert template is not None
    return NoticeDecision(template, anomaly.kind, anomaly.severity, suppressed_reason)
