"""Answering a refund on the platform: claimed once, re-read first, done on the version read.

The pipeline's automatic answers and an agent's one command go through this one path, so
neither can answer twice, nor answer a refund that changed since it was decided on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aftercare.clients.errors import AuthenticationError, ProviderError, RequestRejected
from aftercare.clients.taobao import TaobaoClient
from aftercare.clients.taobao_refund_actions import (
    VERSION_CHANGED,
    ReturnAddress,
    agree_refund,
    agree_return,
    intercept_parcel,
    refund_detail,
    refuse_refund,
)
from aftercare.rules.refunds import AGREE, AGREE_RETURN, INTERCEPT, REFUSE
from aftercare.settings import Settings
from aftercare.shop_context import shop_context
from aftercare.store import refund_actions as actions
from aftercare.store.refunds import save_refunds
from models.db import session_scope

# What an answer came to (the figures of a run, the words an agent reads).
DONE, CHANGED, FAILED, ALREADY, REREAD_FAILED = (
    "done", "refund_changed", "action_failed", "already_answered", "reread_failed",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Answer:
    """The seller's answer: the action, the refusal's reason, the return address."""

    action: str
    reason: str | None = None
    address: ReturnAddress | None = None


def answer_refund(
    settings: Settings,
    refund: actions.ActionCandidate,
    answer: Answer,
    now: datetime,
    actor: str,
    client: TaobaoClient,
) -> str:
    """Claim, re-read, act on the version read, record the outcome; return what happened."""
    with session_scope(settings.database_url) as session:
        if not actions.claim_action(
            session=session, shop_id=refund.shop_id, refund_id=refund.refund_id,
            action=answer.action, version=refund.version, now=now, actor=actor,
        ):  # fmt: skip
            return ALREADY
    return _carry_out(settings, refund, answer, now, client)


def _carry_out(
    settings: Settings,
    refund: actions.ActionCandidate,
    answer: Answer,
    now: datetime,
    client: TaobaoClient,
) -> str:
    key = shop_context(settings, refund.shop_code).session_key()
    try:
        live = client.refund(key, refund.refund_id)
    except ProviderError as error:
        if isinstance(error, AuthenticationError):
            raise
        _release(settings, refund, answer.action)  # nothing done: decided again later
        return REREAD_FAILED
    outcome, status, reason = CHANGED, None, None
    try:
        if (live.version, live.status) == (refund.version, refund.status):
            _act(client, key, live.refund_id, str(live.refund_fee), live.version, answer)
            outcome, status = DONE, "done"
    except ProviderError as error:
        if isinstance(error, AuthenticationError):
            raise
        if VERSION_CHANGED not in (error.code or ""):
            # Failed, or perhaps done with the answer lost: never repeated by itself.
            outcome, status, reason = FAILED, "failed", error.reason
    latest = client.refund(key, refund.refund_id) if status == "done" else live
    with session_scope(settings.database_url) as session:
        if status is None:  # changed before we acted: nothing done, decided again
            actions.release_action(
                session=session, shop_id=refund.shop_id, refund_id=refund.refund_id,
                action=answer.action,
            )  # fmt: skip
        else:
            actions.finish_action(
                session=session, shop_id=refund.shop_id, refund_id=refund.refund_id,
                action=answer.action, status=status, reason=reason, now=now,
            )  # fmt: skip
        save_refunds(session=session, shop_id=refund.shop_id, refunds=(latest,), now=now)
    return outcome


def _act(
    client: TaobaoClient, key: str, refund_id: str, fee: str, version: int, answer: Answer
) -> None:
    if answer.action == AGREE:
        agree_refund(client, key, refund_id, fee, version)
    elif answer.action == AGREE_RETURN and answer.address is not None:
        agree_return(client, key, refund_id, version, answer.address)
    elif answer.action == REFUSE and answer.reason:
        refuse_refund(client, key, refund_id, version, answer.reason)
    elif answer.action == INTERCEPT:
        if INTERCEPT not in refund_detail(client, key, refund_id).allowed:
            raise RequestRejected(
                "the platform does not offer the intercept on this refund now",
                provider="taobao",
                code="isv.intercept-not-allowed",
            )
        intercept_parcel(client, key, refund_id, version)
    else:
        raise ValueError(f"no way to carry out {answer.action!r} as given")


def _release(settings: Settings, refund: actions.ActionCandidate, action: str) -> None:
    with session_scope(settings.database_url) as session:
        actions.release_action(
            session=session, shop_id=refund.shop_id, refund_id=refund.refund_id, action=action
        )


class AnswerRefused(ValueError):
    """An agent's answer that cannot be given as asked; the message says why (nothing sent)."""


def agents_answer(
    settings: Settings, refund: actions.ActionCandidate, action: str, reason: str | None
) -> Answer:
    """Check an agent's answer before anything is sent: the CLI's and the workbench's rules."""
    from aftercare.clients.platform import TAOBAO
    from aftercare.rules.refunds import ACTIONS, WAIT_SELLER_CONFIRM_GOODS

    if action not in ACTIONS:
        raise AnswerRefused(f"the action must be one of {', '.join(ACTIONS)}, not {action!r}")
    words = (reason or "").strip()
    if action == REFUSE and not 5 <= len(words) <= 200:
        raise AnswerRefused("a refusal needs a reason of 5 to 200 characters: the buyer reads it")
    if refund.platform != TAOBAO:
        raise AnswerRefused(
            f"refund {refund.refund_id} is on {refund.platform}: answer it in that back office"
        )
    back = refund.status == WAIT_SELLER_CONFIRM_GOODS
    if back and action not in (AGREE, REFUSE):
        raise AnswerRefused("the goods are back: agree once checked, or refuse with the reason")
    if not back and action == AGREE and refund.has_good_return:
        raise AnswerRefused("the buyer sends the goods back: agree to the return (agree_return)")
    to = None
    if action == AGREE_RETURN:
        address = settings.refunds.return_addresses.get(refund.shop_code)
        if address is None:
            raise AnswerRefused(
                f"no return address for {refund.shop_code}: AFTERCARE_REFUNDS__RETURN_ADDRESSES"
            )
        to = ReturnAddress(address.name, address.address, address.mobile)
    return Answer(action, reason=words or None, address=to)
