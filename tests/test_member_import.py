"""Importing the shop's member-centre export from the sandbox: bad rows get reasons, all else in."""

from __future__ import annotations

import requests
from sqlmodel import select
from typer.testing import CliRunner

from aftercare.phones import phone_or_none
from aftercare.rules.notices import MOBILE
from app.cli import app
from models import Customer, RejectedRecord
from models.db import session_scope
from sandbox.planted import plant

SHOP = "mumu"


def test_members_with_bad_mobiles_or_text_are_imported_with_recorded_reasons(
    settings, sandbox, tmp_path
):
    plant(sandbox.world, "member", shop=SHOP, nick="tb_bad_mobile", mobile="1381234")
    plant(sandbox.world, "member", shop=SHOP, nick="tb_nul\x00", name="张\x00三<b>", mobile="")
    export = requests.get(
        sandbox.base_url + "/_sandbox/members.csv", params={"shop": SHOP}, timeout=10
    )
    path = tmp_path / "members.csv"
    path.write_bytes(export.content)
    members = sandbox.world.members(SHOP)
    malformed = {m.buyer_nick for m in members if m.mobile and not phone_or_none(m.mobile)}
    assert "tb_bad_mobile" in malformed
    decorated = {
        m.buyer_nick: phone_or_none(m.mobile)
        for m in members
        if m.mobile and phone_or_none(m.mobile) and not MOBILE.match(m.mobile)
    }

    result = CliRunner().invoke(app, ["customers", "import", SHOP, str(path)])
    assert result.exit_code == 0, result.output

    with session_scope(settings.database_url) as session:
        customers = {c.buyer_nick: c for c in session.exec(select(Customer))}
        reasons = {
            r.record_key: r.reason
            for r in session.exec(
                select(RejectedRecord).where(RejectedRecord.source == "member.csv")
            )
        }
    # Every member is in, a malformed mobile kept out with its reason on record.
    assert {m.buyer_nick.replace("\x00", "\ufffd") for m in members} <= set(customers)
    for nick in malformed:
        assert customers[nick].phone is None
        assert any(
            nick in key and reason.startswith("invalid mobile (") and "kept without" in reason
            for key, reason in reasons.items()
        ), nick
    for nick, phone in decorated.items():  # +86, spaces, full-width digits: one normal form
        assert customers[nick].phone == phone
    assert customers["tb_nul\ufffd"].name == "张\ufffd三<b>", "stored, a NUL made storable"


CHINESE_HEADER = "会员名,姓名,手机号码,生日,会员等级,会员标签,是否同意营销,授权时间\n"


def imported(settings):
    with session_scope(settings.database_url) as session:
        return {c.buyer_nick: c for c in session.exec(select(Customer))}


def test_a_gbk_export_with_chinese_headers_is_read(settings, sandbox, tmp_path):
    text = (
        CHINESE_HEADER
        + "小雨点,王小雨,13812345678,1990/05/17,3,老客|爱买围巾,是,2026/10/01 12:00:00\n"
        + "大风车,,139-0013-9000,1985年2月3日,1,,否,\n"
    )
    path = tmp_path / "会员资料.csv"
    path.write_bytes(text.encode("gbk"))
    result = CliRunner().invoke(app, ["customers", "import", SHOP, str(path)])
    assert result.exit_code == 0, result.output
    customers = imported(settings)
    rain, wind = customers["小雨点"], customers["大风车"]
    assert (rain.birthday.isoformat(), rain.member_grade, rain.marketing_consent) == (
        "1990-05-17",
        3,
        True,
    )
    assert wind.birthday.isoformat() == "1985-02-03" and not wind.marketing_consent


def test_an_xlsx_export_with_excel_dates_is_read_and_bad_rows_keep_their_reason(
    settings, sandbox, tmp_path
):
    from datetime import datetime

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(CHINESE_HEADER.strip().split(","))
    sheet.append(["小雨点", "王小雨", 13812345678, datetime(1990, 5, 17), 3, "老客", "是", None])
    sheet.append(["大风车", None, "13900139000", 31081, 1.0, None, "否", None])  # 1985-02-03
    sheet.append(["坏生日", None, "13700137000", "生日不详", "VIP", None, "是", None])
    path = tmp_path / "members.xlsx"
    book.save(path)

    result = CliRunner().invoke(app, ["customers", "import", SHOP, str(path)])
    assert result.exit_code == 0, result.output
    customers = imported(settings)
    assert customers["小雨点"].birthday.isoformat() == "1990-05-17"
    assert customers["大风车"].birthday.isoformat() == "1985-02-03"
    assert customers["大风车"].member_grade == 1 and customers["坏生日"].birthday is None
    with session_scope(settings.database_url) as session:
        reasons = [r.reason for r in session.exec(select(RejectedRecord))]
    assert any("unreadable birthday '生日不详'" in r for r in reasons), reasons
    assert any("unreadable grade 'VIP'" in r for r in reasons), reasons


def test_a_file_that_is_no_export_gets_one_reason_not_a_traceback(settings, sandbox, tmp_path):
    path = tmp_path / "members.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a workbook")
    result = CliRunner().invoke(app, ["customers", "import", SHOP, str(path)])
    assert result.exit_code == 0 and "unreadable .xlsx" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
