"""Neutral and bad reviews (中差评): cause, first contact, the follow-up ladder, the deadline."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

from aftercare.clients.taobao_ratings import EXPLAIN_CLOSED_CODES
from aftercare.clock import CHINA
from aftercare.display import one_line, robot_text
from aftercare.privacy import mask_name, redact
from aftercare.rules.explanations import Part, parse_parts, render


@dataclass(frozen=True, slots=True)
class Cause:
    """One cause of complaint, how to recognise it and what the team does about it."""

    name: str
    label: str
    keywords: tuple[str, ...]
    contact: str  # same_day | next_day
    shop_at_fault: bool
    script: str
    remedy: str
    explanation: tuple[Part, ...]
    repeat_run: int = 0


@cache
def load_causes(path: str | None = None) -> tuple[Cause, ...]:
    """Load the cause rules, in the order they are tried."""
    if path:
        text = Path(path).read_text(encoding="utf-8")
    else:
        text = resources.files("aftercare").joinpath("rules/review_causes.toml").read_text("utf-8")
    return tuple(
        Cause(
            name=name,
            keywords=tuple(k.lower() for k in spec.pop("keywords")),
            explanation=parse_parts(name, spec.pop("explanation")),
            **spec,
        )
        for name, spec in tomllib.loads(text).items()
    )


@dataclass(frozen=True, slots=True)
class OrderFacts:
    """What the order's own history says, to tell a mood from a real fault."""

    had_logistics_case: bool
    had_other_case: bool


def classify(text: str, facts: OrderFacts, causes: tuple[Cause, ...]) -> Cause:
    """Return the cause of a review, else judge by the order's facts.

    The most specific (longest) matching keyword wins, so "压变形" (crushed in transit) beats
    "变形" (lost its shape); ties go to the cause listed first.
    """
    lowered = text.lower()
    by_name = {c.name: c for c in causes}
    best: tuple[int, int] | None = None
    for rank, cause in enumerate(causes):
        if _repeats(lowered, cause.repeat_run):
            return cause
        length = max((len(k) for k in cause.keywords if k in lowered), default=0)
        if length and (best is None or length > best[0]):
            best = (length, rank)
    if best is not None:
        return causes[best[1]]
    if facts.had_logistics_case and "logistics" in by_name:
        return by_name["logistics"]
    return by_name["mood"]


def _repeats(text: str, run: int) -> bool:
    if run <= 0:
        return False
    if re.search(rf"(.)\1{{{run - 1},}}", text.replace(" ", "")):
        return True
    return text.count("差评") >= 3


@dataclass(frozen=True, slots=True)
class WorkingHours:
    """When agents work, local to the shop."""

    start: time
    end: time
    zone: ZoneInfo

    def next_start(self, moment: datetime, *, days_later: int = 0) -> datetime:
        """Return the next start of working hours on or after moment (+ whole days)."""
        local = moment.astimezone(self.zone)
        day = local.date() + timedelta(days=days_later)
        start = datetime.combine(day, self.start, tzinfo=self.zone)
        if days_later == 0 and local.time() >= self.start:
            if local.time() < self.end:
                return moment
            start += timedelta(days=1)
        return start.astimezone(moment.tzinfo)


def first_contact_at(
    cause: Cause, rated_at: datetime, now: datetime, hours: WorkingHours
) -> datetime:
    """Return when to first contact the buyer: mood cases the next day, others at once."""
    if cause.contact == "next_day":
        # Not right after the review: the buyer is still upset and a call then backfires.
        return max(hours.next_start(rated_at, days_later=1), hours.next_start(now))
    return hours.next_start(now)


def explanation_deadline(rated_at: datetime, window_days: int) -> datetime:
    """Return the moment after which the platform no longer takes an explanation."""
    return rated_at + timedelta(days=window_days)


def explanation_due_at(deadline: datetime, hours: WorkingHours, days_before: int) -> datetime:
    """Return when to post the explanation: at work on the last allowed day (or days before).

    If working hours on that day start after the deadline, the day before is used.
    """
    last_day = deadline.astimezone(hours.zone).date()
    due = datetime.combine(last_day, hours.start, tzinfo=hours.zone)
    if due >= deadline:
        due = datetime.combine(last_day - timedelta(days=1), hours.start, tzinfo=hours.zone)
    due = datetime.combine(due.date() - timedelta(days=days_before), hours.start, tzinfo=hours.zone)
    return due.astimezone(deadline.tzinfo)


def render_explanation(cause: Cause, facts: dict[str, str]) -> str:
    """Render a cause's public explanation from the facts on record, within the limit."""
    return render(cause.explanation, facts)


# Next actions that mean "an agent calls the buyer" (the call list, the lead's progress).
CALLS = ("first_contact", "call_again", "offer_compensation", "follow_up_again", "check_revision")


class Outcome(StrEnum):
    """What an agent's contact with the buyer came to."""

    AGREED_TO_REVISE = "agreed_to_revise"
    DECLINED = "declined"
    COMPENSATION_ACCEPTED = "compensation_accepted"
    COMPENSATION_DECLINED = "compensation_declined"
    UNREACHABLE = "unreachable"
    MALICIOUS_REPORTED = "malicious_reported"


@dataclass(frozen=True, slots=True)
class NextStep:
    """The case's next action and its time (None: the explanation day), and a buyer message."""

    action: str
    at: datetime | None
    message: str | None = None  # template name
    message_at: datetime | None = None


def after_outcome(
    outcome: Outcome,
    *,
    now: datetime,
    agreed_next_contact: datetime | None,
    unreachable_count: int,
    declines: int,
    max_unreachable: int,
    hours: WorkingHours,
) -> NextStep:
    """Return the next step of the follow-up ladder after an agent's contact."""
    later = agreed_next_contact or hours.next_start(now, days_later=2)
    if outcome in (Outcome.AGREED_TO_REVISE, Outcome.COMPENSATION_ACCEPTED):
        # Thank them now; remind them at the agreed time; check the rating after that.
        return NextStep(
            "check_revision",
            later,
            message="review_revision_reminder",
            message_at=agreed_next_contact or hours.next_start(now, days_later=1),
        )
    if outcome is Outcome.DECLINED:
        return NextStep("offer_compensation", agreed_next_contact or hours.next_start(now))
    if outcome is Outcome.COMPENSATION_DECLINED:
        if declines >= 2:
            # Asked twice, compensation offered: no more calls. The explanation still waits
            # for its day, in case the buyer changes their mind meanwhile.
            return NextStep("await_explanation", None)
        return NextStep("follow_up_again", later)
    if outcome is Outcome.UNREACHABLE:
        if unreachable_count >= max_unreachable:
            return NextStep("await_explanation", None)
        return NextStep("call_again", agreed_next_contact or hours.next_start(now, days_later=1))
    return NextStep("await_explanation", None)  # malicious: reported to the platform


class Settlement(StrEnum):
    """What to do with an open review case at a pipeline run."""

    RECOVERED = "recovered"  # the buyer revised the rating to good
    EXPLAINED = "explained"  # the shop's explanation is on the rating already
    EXPLAIN = "explain"  # post the public explanation now
    EXPIRED = "expired"  # the window closed without an explanation
    WAIT = "wait"


def settle(
    *,
    result: str,
    has_reply: bool,
    appended: bool,
    now: datetime,
    explain_at: datetime,
    deadline: datetime,
) -> Settlement:
    """Decide whether a review case is done, needs its explanation now, or waits."""
    if result == "good":
        return Settlement.RECOVERED
    if has_reply:
        return Settlement.EXPLAINED
    if now >= deadline:
        return Settlement.EXPIRED
    if appended or now >= explain_at:
        # A follow-up review (追评) may close the window at once: explain without waiting.
        return Settlement.EXPLAIN
    return Settlement.WAIT


@dataclass(frozen=True, slots=True)
class Closing:
    """How a review case closes: the figure it counts under and the reason it records."""

    kind: str
    reason: str


CLOSINGS = {
    Settlement.RECOVERED: Closing("recovered", "recovered: the buyer revised the rating to good"),
    Settlement.EXPLAINED: Closing("explained", "explained"),
    Settlement.EXPIRED: Closing(
        "the explanation window closed without an explanation",
        "the explanation window closed without an explanation",
    ),
}


def explanation_refused(code: str | None, message: str) -> Closing:
    """Close a case whose explanation the platform refused, by the platform's code.

    The "already explained" code means an earlier attempt went through and its answer was lost.
    """
    if code and code.endswith(EXPLAIN_CLOSED_CODES[1]):
        return CLOSINGS[Settlement.EXPLAINED]
    if code and code.endswith(EXPLAIN_CLOSED_CODES[0]):
        kind = "explanation no longer possible"
    else:
        kind = "explanation refused"
    return Closing(kind, f"{kind}: {message}")


def grade(result: str) -> str:
    """Name a rating as the team does: 差评 or 中评."""
    return "差评" if result == "bad" else "中评"


def case_summary(cause: Cause, content: str) -> str:
    """Summarise a new review case for the agents: the cause, the review, the remedy."""
    return f"{cause.label}：{one_line(redact(content), 80)}。{cause.remedy}"


def alert_line(
    case_id: int, result: str, cause: Cause, buyer_nick: str, content: str, deadline: datetime
) -> str:
    """One line of the staff alert about a new review case (buyer masked, text made safe)."""
    return (
        f"- 案例 #{case_id} {grade(result)}｜{cause.label}"
        f"｜买家 {robot_text(mask_name(buyer_nick))}"
        f"｜{robot_text(redact(content), 40)}"
        f"｜截止 {deadline.astimezone(CHINA):%m-%d}"
    )
