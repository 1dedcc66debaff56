"""Importing the shop's member-centre export from the sandbox: bad rows get reasons, all else in."""

from __future__ import annotations

import requests
from sqlmodel import select
from typer.testing import CliRunner

from aftercare.cli import app
from aftercare.phones import phone_or_none
from aftercare.rules.notices import MOBILE
from aftercare.sandbox.planted import plant
from models import Customer, RejectedRecord
from models.db import session_scope

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
