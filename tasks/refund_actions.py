"""Acting on refunds the shop lets the pipeline answer: re-read first, act on that version."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from aftercare.clients.errors import AuthenticationError, ProviderError
from aftercare.clients.platform import TAOBAO
from aftercare.clients.taobao_refund_actions import (
    VERSION_CHANGED,
    ReturnAddress,
    agree_refund,
    agree_return,
)
from aftercare.rules.refunds import AGREE, AGREE_RETURN, propose
from aftercare.settings import ReturnAddressSettings, Settings, get_settings
from aftercare.shop_context import shop_context
from aftercare.store import refund_actions as actions
from aftercare.store.refunds import save_refunds
from models.db import session_scope
from tasks import limits
from tasks.policy import pipeline_task


@pipeline_task("act-on-refunds")
def act_on_refunds(as_of: datetime) -> dict[str, int]:
    """Carry out the automatic answers; each is claimed first, so none is ever given twice."""
    settings = get_settings()
    counts: Counter[str] = Counter()
    with session_scope(settings.database_url) as session:
        candidates = actions.waiting_for_answer(session=session)
    for refund in candidates:
        plan = propose(
            refund.kind, refund.status, refund.has_good_return, refund.fee,
            settings.refunds.auto_for(refund.shop_code),
        )  # fmt: skip
        if plan.action not in (AGREE, AGREE_RETURN) or not plan.automatic:
            counts["left_to_people"] += plan.action is not None
            continue
        if refund.platform != TAOBAO:  # the answers on other platforms are the agents' yet
            counts["left_to_people"] += 1
            continue
        address = settings.refunds.return_addresses.get(refund.shop_code)
        if plan.action == AGREE_RETURN and address is None:
            counts["no_return_address"] += 1
            continue
        with session_scope(settings.database_url) as session:
            if not actions.claim_action(
                session=session, shop_id=refund.shop_id, refund_id=refund.refund_id,
                action=plan.action, version=refund.version, now=as_of,
            ):  # fmt: skip
                counts["already_answered"] += 1
                continue
        counts[_act(settings, refund, plan.action, address, as_of)] += 1
    return dict(counts)


def _act(
    settings: Settings,
    refund: actions.ActionCandidate,
    action: str,
    address: ReturnAddressSettings | None,
    now: datetime,
) -> str:
    """Re-read, act on the version read, record the outcome; return what happened."""
    client = limits.taobao(settings)
    key = shop_context(settings, refund.shop_code).session_key()
    try:
        live = client.refund(key, refund.refund_id)
    except ProviderError as error:
        if isinstance(error, AuthenticationError):
            raise
        with session_scope(settings.database_url) as session:  # nothing done: try next run
            actions.release_action(
                session=session, shop_id=refund.shop_id, refund_id=refund.refund_id,
                action=action,
            )  # fmt: skip
        return "reread_failed"
    outcome, status, reason = "refund_changed", None, None
    try:
        if (live.version, live.status) == (refund.version, refund.status):
            if action == AGREE:
                agree_refund(client, key, live.refund_id, str(live.refund_fee), live.version)
            elif address is not None:
                to = ReturnAddress(address.name, address.address, address.mobile)
                agree_return(client, key, live.refund_id, live.version, to)
            outcome, status = action, "done"
    except ProviderError as error:
        if isinstance(error, AuthenticationError):
            raise
        if VERSION_CHANGED not in (error.code or ""):
            # Failed, or perhaps done with the answer lost: never repeated by itself.
            outcome, status, reason = "action_failed", "failed", error.reason
    latest = client.refund(key, refund.refund_id) if status == "done" else live
    with session_scope(settings.database_url) as session:
        if status is None:  # changed before we acted: nothing done, decided again next run
            actions.release_action(
                session=session, shop_id=refund.shop_id, refund_id=refund.refund_id,
                action=action,
            )  # fmt: skip
        else:
            actions.finish_action(
                session=session, shop_id=refund.shop_id, refund_id=refund.refund_id,
                action=action, status=status, reason=reason, now=now,
            )  # fmt: skip
        save_refunds(session=session, shop_id=refund.shop_id, refunds=(latest,), now=now)
    return outcome
