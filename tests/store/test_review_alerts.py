"""Staff hear of each review case once: overlapping runs claim cases before alerting."""

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from aftercare.store.reviews import claim_alerts, release_alerts
from aftercare.store.shops import register_shop
from models import AfterSalesCase, Shop
from models.db import session_scope

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def open_cases(url, count):
    with session_scope(url) as session:
        register_shop(
            session=session, code="sishi", name="四时", seller_nick="四时", sms_sign_name="四时"
        )
        shop = session.exec(select(Shop).where(Shop.code == "sishi")).one()
        for n in range(count):
            session.add(
                AfterSalesCase(
                    case_key=f"review:sishi:{n}",
                    shop_id=shop.id,
                    kind="review",
                    opened_at=NOW,
                    updated_at=NOW,
                )
            )
    with session_scope(url) as session:
        return [c.id for c in session.exec(select(AfterSalesCase))]


def claim(url, ids, now=NOW):
    with session_scope(url) as session:
        return claim_alerts(session=session, case_ids=ids, now=now)


def test_a_case_claimed_by_one_run_is_not_alerted_by_another(database_url):
    ids = open_cases(database_url, 4)
    assert claim(database_url, ids[:3]) == set(ids[:3])
    assert claim(database_url, ids, NOW + timedelta(seconds=1)) == {ids[3]}
    assert claim(database_url, ids, NOW + timedelta(minutes=30)) == set()


def test_cases_whose_alert_failed_are_given_back_for_the_next_run(database_url):
    ids = open_cases(database_url, 2)
    assert claim(database_url, ids) == set(ids)
    with session_scope(database_url) as session:
        release_alerts(session=session, case_ids=ids, now=NOW)
    assert claim(database_url, ids, NOW + timedelta(minutes=30)) == set(ids)
