"""The workbench's pages with 100,000 open cases: p50/p95 page times, printed.

`python -m bench.workbench [--cases 100000] [--requests 60]`: a fresh SQLite database gets the
cases (one order each; a fifth of them bad-review follow-ups, due times spread over two weeks,
a tenth assigned), the workbench is served in this process and asked for each page over HTTP
as a signed-in lead (every shop) and an agent (two of three shops).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import requests
from sqlalchemy import insert, text

ANCHOR = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
SHOPS = ("sishi", "xiaoya", "mumu")
KINDS = ("stalled", "no_tracking", "overdue", "problem", "returning", "review")
PASSWORD = "bench-password-1"


def seed(database_url: str, cases: int) -> None:
    """Shops, customers, orders and open cases, inserted in bulk."""
    from models import AfterSalesCase, Customer, Order, Shop
    from models.db import session_scope

    rng = random.Random(7)
    with session_scope(database_url) as session:
        for n, code in enumerate(SHOPS, 1):
            session.add(Shop(id=n, code=code, name=f"店铺{code}", seller_nick=code,
                             sms_sign_name="店铺"))  # fmt: skip
        session.flush()
        customers, orders, rows = [], [], []
        for i in range(1, cases + 1):
            shop = i % len(SHOPS) + 1
            customers.append(dict(id=i, shop_id=shop, buyer_id=f"uid:{i}", buyer_nick=f"t{i}",
                                  first_seen_at=ANCHOR, updated_at=ANCHOR))  # fmt: skip
            orders.append(dict(id=i, shop_id=shop, customer_id=i, tid=str(4_000_000_000 + i),
                               status="WAIT_BUYER_CONFIRM_GOODS", created_at=ANCHOR,
                               modified_at=ANCHOR, synced_at=ANCHOR, payment=Decimal("89.00"),
                               receiver_phone=f"138{i:08d}"))  # fmt: skip
            kind = KINDS[i % len(KINDS)]
            due = ANCHOR + timedelta(minutes=rng.randint(-3 * 24 * 60, 14 * 24 * 60))
            rows.append(dict(
                case_key=f"bench:{i}", shop_id=shop, order_id=i, kind=kind, state="open",
                severity="serious" if i % 7 == 0 else "minor", next_action="call_again",
                next_action_at=None if i % 97 == 0 else due, summary=f"案例 {i}：物流停滞",
                opened_at=ANCHOR, updated_at=ANCHOR,
                deadline_at=due + timedelta(days=2) if kind == "review" else None,
                assigned_to="xiaowang" if i % 10 == 0 else None,
            ))  # fmt: skip
        for table, batch in ((Customer, customers), (Order, orders), (AfterSalesCase, rows)):
            for start in range(0, len(batch), 5000):
                session.execute(insert(table), batch[start : start + 5000])


def timed(session: requests.Session, url: str, count: int) -> list[float]:
    """Milliseconds per GET, each answered 200."""
    spent = []
    for _ in range(count):
        start = time.perf_counter()
        answer = session.get(url, allow_redirects=False)
        spent.append((time.perf_counter() - start) * 1000)
        assert answer.status_code == 200, (url, answer.status_code, answer.text[:300])
    return spent


def sign_in(base: str, username: str) -> requests.Session:
    """A requests session signed in to the workbench (cookies not Secure here: plain http)."""
    session = requests.Session()
    page = session.get(f"{base}/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token is not None
    form = {"csrf": token[1], "username": username, "password": PASSWORD}
    done = session.post(f"{base}/login", data=form, allow_redirects=False)
    assert done.status_code == 303, done.text[:300]
    return session


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="aftercare-bench-workbench-")
    database_url = f"sqlite:///{folder}/aftercare.db"
    os.environ.update(
        AFTERCARE_DATABASE_URL=database_url,
        AFTERCARE_WORKBENCH__SECURE_COOKIES="false",
        AFTERCARE_SIMULATED_NOW=ANCHOR.isoformat(),
    )
    from aftercare.settings import get_settings
    from app.workbench.server import start_workbench
    from app.workbench.users import add_user
    from models.migrate import upgrade

    get_settings.cache_clear()
    upgrade(database_url)
    start = time.perf_counter()
    seed(database_url, args.cases)
    print(
        f"seeded {args.cases:,} open cases with their orders in {time.perf_counter() - start:.1f} s"
    )
    add_user(database_url, "lead", PASSWORD, "lead", [], True)
    add_user(database_url, "xiaowang", PASSWORD, "agent", ["sishi", "xiaoya"], True)
    running = start_workbench(get_settings(), port=0)
    base = running.url
    lead, agent = sign_in(base, "lead"), sign_in(base, "xiaowang")
    pages = [
        ("queue, lead, every shop", lead, "/queue"),
        ("queue, agent, two shops", agent, "/queue"),
        ("queue, one shop, reviews", agent, "/queue?shop=sishi&kind=review"),
        ("queue, my cases", agent, "/queue?agent=xiaowang"),
        ("queue, unassigned", agent, "/queue?agent=-"),
        ("a case", agent, "/cases/3"),
        ("lead's page (charts drawn once an hour)", lead, "/lead"),
    ]
    timed(lead, f"{base}/queue", 3)  # warm the caches the first request fills
    print(f"{'page':<42} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for name, session, path in pages:
        spent = timed(session, base + path, args.requests)
        p95 = statistics.quantiles(spent, n=20)[18]
        print(f"{name:<42} {statistics.median(spent):>8.1f} {p95:>8.1f} {max(spent):>8.1f}")
    from sqlalchemy import create_engine

    with create_engine(database_url).connect() as connection:
        plan = connection.execute(
            text(
                "EXPLAIN QUERY PLAN SELECT id FROM cases WHERE state = 'open' "
                "AND next_action_at IS NOT NULL ORDER BY next_action_at, id LIMIT 100"
            )
        ).all()
    print("open-case plan:", "; ".join(str(row[-1]) for row in plan))
    running.stop()


if __name__ == "__main__":
    main()
