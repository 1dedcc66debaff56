"""The team lead's figures: today's calls, overdue cases, service levels per agent and shop."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case as when
from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from aftercare.rules.reviews import CALLS
from aftercare.store.workbench import shop_ids
from models import AfterSalesCase, CaseEvent


@dataclass(frozen=True, slots=True)
class Kept:
    """Open cases of one agent or shop, how many are overdue, and today's contacts."""

    name: str
    open: int
    overdue: int
    contacts_today: int = 0

    @property
    def kept(self) -> float | None:
        """The share of open cases whose next step is not late."""
        return None if not self.open else 1 - self.overdue / self.open


@dataclass(frozen=True, slots=True)
class CallProgress:
    """Today's call list: review cases contacted today and those still due today."""

    done: int
    left: int


def _overdue(now: datetime) -> Any:
    return func.sum(when((col(AfterSalesCase.next_action_at) < now, 1), else_=0))


def kept_per_shop(*, session: Session, shops: list[str], now: datetime) -> list[Kept]:
    """Open and overdue cases per shop."""
    kept = []
    for code, shop_id in sorted(shop_ids(session=session, shops=shops).items()):
        n, late = session.execute(
            sa_select(func.count(), _overdue(now)).where(
                col(AfterSalesCase.state) == "open", col(AfterSalesCase.shop_id) == shop_id
            )
        ).one()
        if n:
            kept.append(Kept(code, n, int(late or 0)))
    return kept


def kept_per_agent(
    *, session: Session, shops: list[str], now: datetime, day_start: datetime
) -> list[Kept]:
    """Open and overdue cases per assigned agent, and each agent's contacts today."""
    ids = list(shop_ids(session=session, shops=shops).values())
    agents: dict[str, Kept] = {}
    for shop_id in ids:  # one shop at a time: a range of the covering index each
        for name, n, late in session.execute(
            sa_select(col(AfterSalesCase.assigned_to), func.count(), _overdue(now))
            .where(
                col(AfterSalesCase.state) == "open",
                col(AfterSalesCase.shop_id) == shop_id,
                col(AfterSalesCase.assigned_to).is_not(None),
            )
            .group_by(col(AfterSalesCase.assigned_to))
        ).all():
            had = agents.get(name, Kept(name, 0, 0))
            agents[name] = Kept(name, had.open + n, had.overdue + int(late or 0))
    contacts: dict[str, int] = dict(
        session.execute(  # type: ignore[arg-type]
            sa_select(col(CaseEvent.actor), func.count())
            .join(AfterSalesCase, col(AfterSalesCase.id) == CaseEvent.case_id)
            .where(
                col(CaseEvent.action).startswith("contact:"),
                col(CaseEvent.at) >= day_start,
                col(AfterSalesCase.shop_id).in_(ids),
            )
            .group_by(col(CaseEvent.actor))
        ).all()
    )
    for name, count in contacts.items():
        known = agents.get(name, Kept(name, 0, 0))
        agents[name] = Kept(name, known.open, known.overdue, count)
    return sorted(agents.values(), key=lambda k: k.name)


def call_progress(
    *, session: Session, shops: list[str], day_start: datetime, day_end: datetime
) -> CallProgress:
    """Review cases contacted today, and open ones whose call is still due by the day's end."""
    in_shops = col(AfterSalesCase.shop_id).in_(shop_ids(session=session, shops=shops).values())
    done = session.execute(
        sa_select(func.count(func.distinct(CaseEvent.case_id)))
        .join(AfterSalesCase, col(AfterSalesCase.id) == CaseEvent.case_id)
        .where(
            col(AfterSalesCase.kind) == "review",
            col(CaseEvent.action).startswith("contact:"),
            col(CaseEvent.at) >= day_start,
            in_shops,
        )
    ).scalar_one()
    left = session.execute(
        sa_select(func.count())
        .select_from(AfterSalesCase)
        .where(
            col(AfterSalesCase.kind) == "review",
            col(AfterSalesCase.state) == "open",
            col(AfterSalesCase.next_action).in_(CALLS),
            col(AfterSalesCase.next_action_at) < day_end,
            in_shops,
        )
    ).scalar_one()
    return CallProgress(int(done or 0), int(left or 0))
