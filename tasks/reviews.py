"""Review follow-up tasks: sync ratings, open cases, alert staff, settle cases."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from logging import Logger, LoggerAdapter
from zoneinfo import ZoneInfo

from prefect import get_run_logger

from aftercare.clients.errors import AuthenticationError, ProviderError, RequestRejected
from aftercare.clients.taobao import TaobaoClient
from aftercare.clients.taobao_ratings import EXPLAIN_CLOSED_CODES, RatingPage, RatingRecord
from aftercare.clock import CHINA
from aftercare.display import one_line, robot_text
from aftercare.privacy import mask_name, redact
from aftercare.rules import message_keys
from aftercare.rules.notices import sms_blocker
from aftercare.rules.reviews import (
    Cause,
    OrderFacts,
    Settlement,
    WorkingHours,
    classify,
    explanation_deadline,
    explanation_due_at,
    first_contact_at,
    load_causes,
    render_explanation,
    settle,
)
from aftercare.rules.sync import rating_problem
from aftercare.settings import Settings, get_settings
from aftercare.store import reviews as store
from aftercare.store.alerts import queue_alerts
from aftercare.store.cases import add_history
from aftercare.store.outbox import Recipient, enqueue, message_row
from aftercare.store.rejected import record_rejects
from aftercare.store.shops import ShopInfo
from aftercare.store.trades import advance_cursor, get_cursor
from models.db import session_scope
from tasks import limits
from tasks.policy import pipeline_task
from tasks.trades import session_key

STREAM = "ratings"
WINDOW = timedelta(days=7)


def working_hours(settings: Settings, timezone: str | None) -> WorkingHours:
    """Return the agents' working hours in a shop's time zone."""
    return WorkingHours(
        settings.reviews.working_hours_start,
        settings.reviews.working_hours_end,
        ZoneInfo(timezone or settings.timezone),
    )


def usable_ratings(
    page: RatingPage, now: datetime, tolerance: timedelta
) -> tuple[tuple[RatingRecord, ...], list[tuple[str, str]]]:
    """Split a page into the ratings to save and (oid, reason) of those refused."""
    rejected = list(page.rejected)
    ratings = []
    for rating in page.ratings:
        problem = rating_problem(rating, now, tolerance)
        if problem:
            rejected.append((rating.oid, problem))
        else:
            ratings.append(rating)
    return tuple(ratings), rejected


def pull_rating_window(
    settings: Settings, shop: ShopInfo, start: datetime, end: datetime, now: datetime
) -> Counter[str]:
    """Fetch and save the shop's neutral and bad ratings created in one window."""
    client = limits.taobao(settings)
    key = session_key(settings, shop)
    counts: Counter[str] = Counter()
    tolerance = timedelta(minutes=settings.sync.future_tolerance_minutes)
    for result in ("neutral", "bad"):
        for page in client.iter_ratings(
            key, start, end, page_size=settings.reviews.page_size, result=result
        ):
            ratings, rejected = usable_ratings(page, now, tolerance)
            with session_scope(settings.database_url) as session:
                counts["new"] += store.save_ratings(
                    session=session, shop_id=shop.id, ratings=tuple(ratings), now=now
                )
                record_rejects(
                    session=session,
                    source="taobao.rating",
                    shop_id=shop.id,
                    rejects=rejected,
                    now=now,
                )
            counts["rejected"] += len(rejected)
    return counts


@pipeline_task("sync-ratings", run_name="sync-ratings-{shop.code}", retries=2)
def sync_ratings(shop: ShopInfo, as_of: datetime) -> dict[str, int]:
    """Fetch new neutral and bad ratings, and re-read the ratings of open cases."""
    settings = get_settings()
    client = limits.taobao(settings)
    with session_scope(settings.database_url) as session:
        cursor = get_cursor(session=session, shop_id=shop.id, stream=STREAM)
    if cursor is None:  # first run: as far back as a rating can still be explained
        start = as_of - timedelta(days=settings.reviews.initial_sync_days)
    else:  # late-indexed ratings are fetched again
        start = cursor - timedelta(days=settings.reviews.lookback_days)
    counts: Counter[str] = Counter()
    while start < as_of:
        end = min(start + WINDOW, as_of)
        counts.update(pull_rating_window(settings, shop, start, end, as_of))
        with session_scope(settings.database_url) as session:
            advance_cursor(
                session=session, shop_id=shop.id, stream=STREAM, synced_until=end, now=as_of
            )
        start = end
    # A revision to good or a follow-up review changes a rating but not its date: re-read them.
    with session_scope(settings.database_url) as session:
        open_cases = store.open_review_cases(session=session, shop_id=shop.id)
    key = session_key(settings, shop)
    tolerance = timedelta(minutes=settings.sync.future_tolerance_minutes)
    for item in open_cases:
        rated = item.review.rated_at
        page = client.ratings_page(
            key,
            rated - timedelta(minutes=1),
            rated + timedelta(minutes=1),
            page_no=1,
            page_size=20,
            tid=item.review.tid,
        )
        ratings, rejected = usable_ratings(page, as_of, tolerance)
        with session_scope(settings.database_url) as session:
            store.save_ratings(session=session, shop_id=shop.id, ratings=ratings, now=as_of)
            record_rejects(
                session=session,
                source="taobao.rating",
                shop_id=shop.id,
                rejects=rejected,
                now=as_of,
            )
        counts["refreshed"] += 1
    return dict(counts)


@pipeline_task("open-review-cases")
def open_review_cases(as_of: datetime) -> dict[str, int]:
    """Open one case per new neutral or bad review, with its cause, and queue the first message."""
    settings = get_settings()
    causes = load_causes(settings.reviews.causes_file)
    counts: Counter[str] = Counter()
    with session_scope(settings.database_url) as session:
        pending = store.reviews_without_case(session=session, limit=5000)
        rows, plans = [], {}
        for item in pending:
            review = item.review
            facts = OrderFacts(item.had_logistics_case, item.had_other_case)
            cause = classify(review.content, facts, causes)
            hours = working_hours(settings, item.shop_timezone)
            first = first_contact_at(cause, review.rated_at, as_of, hours)
            plans[review.id] = (item, cause, first)
            rows.append(
                {
                    "case_key": f"review:{item.shop_code}:{review.oid}",
                    "shop_id": review.shop_id,
                    "order_id": review.order_id,
                    "review_id": review.id,
                    "kind": store.KIND,
                    "severity": "serious" if review.first_result == "bad" else "minor",
                    "state": "open",
                    "cause": cause.name,
                    "next_action": "first_contact",
                    "next_action_at": first,
                    "deadline_at": explanation_deadline(
                        review.rated_at, settings.reviews.explanation_window_days
                    ),
                    "summary": (
                        f"{cause.label}：{one_line(redact(review.content), 80)}。{cause.remedy}"
                    ),
                    "opened_at": as_of,
                    "updated_at": as_of,
                }
            )
        opened = store.open_cases(session=session, rows=rows, now=as_of) if rows else {}
        messages = []
        for review_id, case_id in opened.items():
            item, cause, first = plans[review_id]
            counts[f"cause:{cause.name}"] += 1
            if not settings.reviews.for_shop(item.shop_code).message_buyer:
                continue
            blocked = sms_blocker(item.phone, item.phone_masked, True)
            row = message_row(
                key=message_keys.review_first_contact(item.shop_code, item.review.oid),
                template="review_first_contact",
                params={"shop": item.shop_name, "item": item.review.item_title[:20]},
                recipient=Recipient(
                    item.review.shop_id, item.customer_id, item.review.order_id, item.phone, blocked
                ),
                now=as_of,
                case_id=case_id,
            )
            if not blocked:
                row["next_attempt_at"] = first
            messages.append(row)
        enqueue(session=session, rows=messages)
    counts["opened"] = len(opened)
    return dict(counts)


@pipeline_task("queue-review-alerts")
def queue_review_alerts(as_of: datetime) -> int:
    """Queue a staff alert line for each review case staff have not been told about yet."""
    settings = get_settings()
    causes = {c.name: c for c in load_causes(settings.reviews.causes_file)}
    with session_scope(settings.database_url) as session:
        fresh = [c for c in store.open_review_cases(session=session) if c.case.alerted_at is None]
        # Claimed first: an overlapping run must not queue the same cases again.
        claimed = store.claim_alerts(
            session=session, case_ids=[i.case.id for i in fresh if i.case.id], now=as_of
        )
        rows = [
            {
                "dedupe_key": f"review-case:{i.case.id}",
                "topic": i.shop_code,
                "heading": "{topic} 新中差评 {count} 条，请今天内电话跟进",
                "line": f"- 案例 #{i.case.id} {_grade(i.review.first_result)}"
                f"｜{causes[i.case.cause or 'mood'].label}"
                f"｜买家 {robot_text(mask_name(i.review.buyer_nick))}"
                f"｜{robot_text(redact(i.review.content), 40)}"
                f"｜截止 {i.case.deadline_at.astimezone(CHINA):%m-%d}",
            }
            for i in fresh
            if i.case.id in claimed and i.case.deadline_at
        ]
        return queue_alerts(session=session, rows=rows, now=as_of)


def _grade(result: str) -> str:
    return "差评" if result == "bad" else "中评"


@pipeline_task("settle-review-cases")
def settle_review_cases(as_of: datetime) -> dict[str, int]:
    """Close recovered cases and post the explanation of those whose day has come."""
    settings = get_settings()
    logger = get_run_logger()
    causes = {c.name: c for c in load_causes(settings.reviews.causes_file)}
    client = limits.taobao(settings)
    counts: Counter[str] = Counter()
    with session_scope(settings.database_url) as session:
        cases = store.open_review_cases(session=session)
    for item in cases:
        case, review = item.case, item.review
        assert case.id is not None and case.deadline_at is not None
        hours = working_hours(settings, item.shop_timezone)
        decision = settle(
            result=review.result,
            has_reply=bool(review.reply),
            appended=review.append_at is not None,
            now=as_of,
            explain_at=explanation_due_at(
                case.deadline_at, hours, settings.reviews.explain_days_before_deadline
            ),
            deadline=case.deadline_at,
        )
        if decision is Settlement.WAIT:
            continue
        reason = {
            Settlement.RECOVERED: "recovered: the buyer revised the rating to good",
            Settlement.EXPLAINED: "explained",
            Settlement.EXPIRED: "the explanation window closed without an explanation",
        }.get(decision)
        if decision is Settlement.EXPLAIN:
            reason = _explain(settings, client, item, causes[case.cause or "mood"], as_of, logger)
        if reason is None:
            continue
        with session_scope(settings.database_url) as session:
            store.close_case(session=session, case_id=case.id, reason=reason, now=as_of)
        counts[reason.split(":")[0]] += 1
    return dict(counts)


def _explain(
    settings: Settings,
    client: TaobaoClient,
    item: store.OpenReviewCase,
    cause: Cause,
    now: datetime,
    logger: Logger | LoggerAdapter[Logger],
) -> str | None:
    """Post the explanation; return the case's closing reason, or None to try again later."""
    case, review = item.case, item.review
    with session_scope(settings.database_url) as session:
        facts = store.explanation_facts(session=session, case=case)
    text = render_explanation(cause, _explanation_facts(facts))
    session_key = settings.taobao_sessions[item.shop_code].get_secret_value()
    try:
        client.explain(session_key, review.oid, text)
    except AuthenticationError:
        raise
    except RequestRejected as error:
        if error.code and error.code.endswith(EXPLAIN_CLOSED_CODES[1]):
            return "explained"  # our earlier attempt went through; its answer was lost
        if error.code and error.code.endswith(EXPLAIN_CLOSED_CODES[0]):
            return f"explanation no longer possible: {error.message}"
        logger.warning("case %s: explanation refused: %s", case.id, error.reason)
        return f"explanation refused: {error.message}"
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
    return "explained"


def _explanation_facts(facts: dict[str, object]) -> dict[str, str]:
    """Word the facts on record; a fact not on record is left out, and so is what cites it."""
    shipped, delivered = facts.get("shipped_at"), facts.get("delivered_at")
    worded = {
        "courier": str(facts.get("courier") or ""),
        "shipped": f"{shipped.astimezone(CHINA):%m月%d日}" if isinstance(shipped, datetime) else "",
        "delivered": f"{delivered.astimezone(CHINA):%m月%d日}"
        if isinstance(delivered, datetime)
        else "",
    }
    for flag in ("contacted", "compensated", "nothing_wrong"):
        worded[flag] = "yes" if facts.get(flag) else ""
    return {name: value for name, value in worded.items() if value}
