"""Member profiles: who joined, birthdays coming up, bad input, and the member-centre export."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import requests

from sandbox import MEMBER_FIELDS, SHOPS, Member, Sandbox, World, build_world
from sandbox.wire import CHINA

from .conftest import ANCHOR

PROJECT_ANCHOR = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
HEADER = "buyer_nick,name,mobile,birthday,grade,tags,marketing_consent,consent_at"
TAGS = {"老客户", "高价值", "童装", "内衣", "家居", "新客", "价格敏感"}
MOBILE = re.compile(r"1[3-9]\d{9}")


@pytest.fixture(scope="module")
def project_world() -> World:
    return build_world(7, 60, PROJECT_ANCHOR)


@pytest.fixture(scope="module")
def suite_world() -> World:
    return build_world(7, 150, ANCHOR)


def _days_to_birthday(member: Member, today: date) -> int | None:
    if not member.birthday:
        return None
    born = date.fromisoformat(member.birthday)
    days = []
    for year in (today.year, today.year + 1):
        try:
            days.append((born.replace(year=year) - today).days)
        except ValueError:  # 29 February in a common year
            continue
    return min(d for d in days if d >= 0) if any(d >= 0 for d in days) else None


@pytest.mark.parametrize("name", ["project_world", "suite_world"])
def test_about_forty_percent_of_each_shops_buyers_are_members(name, request):
    world: World = request.getfixturevalue(name)
    for shop in SHOPS:
        nicks = {t.buyer.nick for t in world.trades.values() if t.shop == shop}
        members = world.members(shop)
        joined = [m for m in members if m.buyer_nick in nicks]
        followers = [m for m in members if m.buyer_nick not in nicks]
        assert 0.28 < len(joined) / len(nicks) < 0.52, (shop, len(joined), len(nicks))
        assert followers and len(followers) < len(joined) / 4
        assert len({m.buyer_nick for m in members}) == len(members)
        assert all(m.shop == shop for m in members)
        consenting = sum(m.consents for m in members) / len(members)
        assert 0.45 < consenting < 0.8


@pytest.mark.parametrize("name", ["project_world", "suite_world"])
def test_birthdays_come_up_tomorrow_in_a_week_and_within_two(name, request):
    world: World = request.getfixturevalue(name)
    today = world.anchor.astimezone(CHINA).date()
    for shop in SHOPS:
        members = world.members(shop)
        soon = {m.buyer_nick: _days_to_birthday(m, today) for m in members}
        within = [m for m in members if soon[m.buyer_nick] is not None and soon[m.buyer_nick] <= 14]
        assert len(within) >= 4, shop
        for offset in (1, 7):
            on_day = [m for m in within if soon[m.buyer_nick] == offset]
            # At least one of them can be greeted: a valid mobile and consent given.
            assert any(MOBILE.fullmatch(m.mobile) and m.consents for m in on_day), (shop, offset)
        assert any(m.birthday.endswith("-02-29") for m in members), shop


@pytest.mark.parametrize("name", ["project_world", "suite_world"])
def test_fields_look_like_the_export_with_some_bad_input(name, request):
    world: World = request.getfixturevalue(name)
    phones = {b.nick: b.phone for b in world.buyers}
    for shop in SHOPS:
        members = world.members(shop)
        kinds = {"same": 0, "other": 0, "empty": 0, "bad": 0}
        for m in members:
            if not m.mobile:
                kinds["empty"] += 1
            elif not MOBILE.fullmatch(m.mobile):
                kinds["bad"] += 1
            else:
                kinds["same" if m.mobile == phones[m.buyer_nick] else "other"] += 1
            assert m.birthday == "" or re.fullmatch(r"(19[6-9]\d|200\d)-\d\d-\d\d", m.birthday)
            if m.birthday:
                date.fromisoformat(m.birthday)
            assert m.grade in range(5)
            assert set(m.tag_list) <= TAGS and len(m.tag_list) == len(set(m.tag_list))
            assert m.marketing_consent in ("1", "0")
            if m.consent_at:
                assert m.consents and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", m.consent_at)
                assert m.consent_at < world.anchor.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")
            assert m.name
        assert kinds["empty"] and kinds["bad"], (shop, kinds)
        assert kinds["same"] / len(members) > 0.5
    everyone = [m for shop in SHOPS for m in world.members(shop)]
    same = sum(m.mobile == phones[m.buyer_nick] for m in everyone)
    assert same / len(everyone) > 0.7
    assert any(m.consents and not m.consent_at for m in everyone)  # legacy records
    assert any(len(m.mobile) == 7 for m in everyone)  # cut short, like "1381234"
    assert any(not m.birthday for m in everyone)


def test_members_are_pinned_for_the_projects_world(project_world: World):
    rows = [repr(m) for shop in SHOPS for m in project_world.members(shop)]
    digest = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    assert digest == "72f5556bb270f667331ca3fdc5f48de05c4da3419934b74290b4d7e98c404c54"


def test_members_export_is_a_utf8_csv_per_shop(sb: Sandbox, http: requests.Session):
    for shop in SHOPS:
        response = http.get(f"{sb.base_url}/_sandbox/members.csv", params={"shop": shop}, timeout=5)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
        text = response.content.decode("utf-8")
        assert text.splitlines()[0] == HEADER
        rows = list(csv.DictReader(io.StringIO(text)))
        assert tuple(rows[0]) == MEMBER_FIELDS
        expected = sb.world.members(shop)
        assert [r["buyer_nick"] for r in rows] == [m.buyer_nick for m in expected]
        assert rows == [dict(zip(MEMBER_FIELDS, m.row(), strict=True)) for m in expected]
        assert any("|" in r["tags"] for r in rows)
    for bad in ({"shop": "taobao"}, {}):
        response = http.get(f"{sb.base_url}/_sandbox/members.csv", params=bad, timeout=5)
        assert response.status_code == 400 and "unknown shop" in response.json()["error"]
    with pytest.raises(KeyError):
        sb.world.members("taobao")


def test_members_come_from_their_own_draws():
    base = build_world(7, 60, PROJECT_ANCHOR)
    assert [m.buyer_nick for m in base.members("mumu")] == [
        m.buyer_nick for m in build_world(7, 60, PROJECT_ANCHOR).members("mumu")
    ]
    assert base.members("mumu") != build_world(8, 60, PROJECT_ANCHOR).members("mumu")
    # Another anchor moves the birthdays that are forced to come up, not who the members are.
    later = build_world(7, 60, PROJECT_ANCHOR + timedelta(days=3))
    assert len(later.members("mumu")) == len(base.members("mumu"))
    tiny = build_world(1, 2, ANCHOR)
    assert all(len(tiny.members(shop)) <= 3 for shop in SHOPS)
