"""Settling review cases: closing the recovered, posting the public explanation when due."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from prefect import get_run_logger

from aftercare.clients.errors import AuthenticationError, ProviderError, RequestRejected
from aftercare.rules.explanations import word_facts
from aftercare.rules.reviews import (
    CLOSINGS,
    Cause,
    Closing,
    Settlement,
    explanation_due_at,
    explanation_refused,
    load_causes,
    render_explanation,
    settle,
)
from aftercare.settings import Settings, get_settings
from aftercare.shop_context import ShopContext, shop_context
from aftercare.store import reviews as store
from aftercare.store.cases import add_history
from models.db import session_scope
from tasks import limits
from tasks.policy import pipeline_task


@pipeline_task("settle-review-cases")
def settle_review_cases(as_of: datetime) -> dict[str, int]:
    """Close recovered cases and post the explanation of those whose day has come."""
    settings = get_settings()
    causes = {c.name: c for c in load_causes(settings.reviews.causes_file)}
    counts: Counter[str] = Counter()
    with session_scope(settings.database_url) as session:
        cases = store.open_review_cases(session=session)
    for item in cases:
        case, review = item.case, item.review
        assert case.id is not None and case.deadline_at is not None
        shop = shop_context(settings, item.shop_code, item.shop_timezone)
        decision = settle(
            result=review.result,
            has_reply=bool(review.reply),
            appended=review.append_at is not None,
            now=as_of,
            explain_at=explanation_due_at(
                case.deadline_at, shop.working_hours, shop.reviews.explain_days_before_deadline
            ),
            deadline=case.deadline_at,
        )
        closing = CLOSINGS.get(decision)
        if decision is Settlement.EXPLAIN:
            closing = _explain(settings, shop, item, causes[case.cause or "mood"], as_of)
        if closing is None:
            continue
        with session_scope(settings.database_url) as session:
            store.close_case(session=session, case_id=case.id, reason=closing.reason, now=as_of)
        counts[closing.kind] += 1
    return dict(counts)


def _explain(
    settings: Settings, shop: ShopContext, item: store.OpenReviewCase, cause: Cause, now: datetime
) -> Closing | None:
    """Post the explanation; return how the case closes, or None to try again later."""
    case, review = item.case, item.review
    logger = get_run_logger()
    with session_scope(settings.database_url) as session:
        facts = store.explanation_facts(session=session, case=case)
    text = render_explanation(cause, word_facts(facts))
    try:
        limits.taobao(settings).explain(shop.session_key(), review.oid, text)
    except AuthenticationError:
        raise
    except RequestRejected as error:
        closing = explanation_refused(error.code, error.message)
        if closing.kind == "explanation refused":
            logger.warning("case %s: explanation refused: %s", case.id, error.reason)
        return closing
    except ProviderError as error:
        logger.warning("case %s: explanation not posted yet: %s", case.id, error.reason)
        # The case stays open for the next run; its history says why it is not explained yet.
        with session_scope(settings.database_url) as session:
            add_history(
                session=session,
                case_id=case.id or 0,
                action="explanation_failed",
                note=f"explanation not posted yet: {error.reason}",
                now=now,
            )
        return None
    with session_scope(settings.database_url) as session:
        store.record_reply(session=session, review_id=review.id or 0, reply=text, now=now)
    return CLOSINGS[Settlement.EXPLAINED]
