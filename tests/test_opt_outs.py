"""Opt-outs apply whatever form the number and reply come in; bad replies are kept with a reason."""

import hashlib
import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlmodel import select
from typer.testing import CliRunner

from aftercare.rules.care import is_opt_out
from aftercare.store.outbox import opted_out_phone
from aftercare.webhooks import sign
from app.cli import app
from models import OptOut, RejectedRecord, TrackingPush
from models.db import session_scope
from tests.test_receiver import PARAM, SALT, SECRET, post, push

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def opted_out(database_url):
    with session_scope(database_url) as session:
        return {o.value for o in session.exec(select(OptOut))}


def rejected(database_url, source="sms reply"):
    with session_scope(database_url) as session:
        rows = session.exec(select(RejectedRecord).where(RejectedRecord.source == source))
        return {r.record_key: r.reason for r in rows}


@SQLITE
def test_opt_outs_in_every_format_are_stored_as_one_number_and_apply(settings, receiver):
    replies = [
        ("+86 138-1234-5678", "TD"),
        ("８６１３９０００００００２", "Ｔ"),
        (" 13700000003 ", "ｔｄ"),
        ("0086 136 0000 0004", "回Ｔ退订"),
        (13500000005, "td "),
    ]
    items = [
        {"phone_number": phone, "content": text, "sequence_id": n}
        for n, (phone, text) in enumerate(replies)
    ]
    assert post(receiver, items).status_code == 200
    stored = opted_out(settings.database_url)
    assert stored == {"13812345678", "13900000002", "13700000003", "13600000004", "13500000005"}
    with session_scope(settings.database_url) as session:
        assert opted_out_phone(session=session, phone="13812345678")


@SQLITE
def test_one_bad_reply_is_recorded_and_the_rest_of_the_batch_counts(settings, receiver):
    items = [
        {"phone_number": "13812345678", "content": "TD", "sequence_id": 1},
        {"phone_number": None, "content": "TD", "sequence_id": 2},
        "not a reply",
        {"phone_number": "138****0000", "content": "T", "sequence_id": 4},
        {"phone_number": "13900000001", "content": ["T"], "sequence_id": 5},
        {"phone_number": "13900000002", "content": "T", "sequence_id": 6},
    ]
    answer = post(receiver, items)
    assert answer.status_code == 200, answer.text
    assert opted_out(settings.database_url) == {"13812345678", "13900000002"}
    reasons = rejected(settings.database_url)
    assert "no phone number" in reasons["reply 2"]
    assert "masked" in reasons["reply 4"] and "0000" not in reasons["reply 4"]
    assert "not text" in reasons["reply 5"]
    assert any("not a JSON object" in r for r in reasons.values())


@SQLITE
def test_a_replay_with_the_signature_in_upper_case_is_still_a_replay(settings, receiver):
    body = json.dumps([{"phone_number": "13812345678", "content": "TD"}]).encode()
    stamp = str(int(time.time()))
    signature = sign(SECRET, stamp, body)
    headers = {"Content-Type": "application/json", "X-Aftercare-Timestamp": stamp}
    first = requests.post(
        f"{receiver}/sms/uplink", data=body, headers=headers | {"X-Aftercare-Signature": signature}
    )
    again = requests.post(
        f"{receiver}/sms/uplink",
        data=body,
        headers=headers | {"X-Aftercare-Signature": signature.upper()},
    )
    assert first.status_code == 200 and again.status_code == 409


@SQLITE
def test_a_signed_deeply_nested_reply_is_refused_with_a_recorded_reason(settings, receiver):
    answer = post(receiver, [], body=b"[" * 5000 + b"]" * 5000)
    assert answer.status_code == 400
    assert any("nested deeper" in r for r in rejected(settings.database_url).values())


@SQLITE
def test_a_deeply_nested_push_does_not_fail_the_pushes_stored_with_it(settings, receiver):
    nested = json.dumps({"status": "polling", "lastResult": {"data": []}, "x": []})
    nested = nested.replace("[]", "[" * 3000 + "]" * 3000, 1)
    valid = [PARAM.replace("YT9001", f"YT{9100 + n}") for n in range(20)]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda p: push(receiver, p), [*valid[:10], nested, *valid[10:]]))
    assert [a.status_code for a in answers] == [200] * 21, [a.text for a in answers]
    with session_scope(settings.database_url) as session:
        stored = {p.digest for p in session.exec(select(TrackingPush))}
    assert {hashlib.sha256(p.encode()).hexdigest() for p in valid} <= stored
    assert SALT  # the pushes above are signed with the sandbox salt


@SQLITE
@pytest.mark.parametrize(
    ("written", "stored"),
    [("138 0013 8000", "13800138000"), ("+86-138-0013-8000", "13800138000")],
)
def test_the_cli_records_an_opt_out_as_the_normalised_number(settings, written, stored):
    result = CliRunner().invoke(app, ["contacts", "opt-out", "--phone", written])
    assert result.exit_code == 0, result.output
    assert opted_out(settings.database_url) == {stored}
    assert "138****8000" in result.output and stored not in result.output


@SQLITE
@pytest.mark.parametrize("written", ["138****8000", "1380013800", "None"])
def test_the_cli_refuses_a_masked_or_invalid_number_and_records_nothing(settings, written):
    result = CliRunner().invoke(app, ["contacts", "opt-out", "--phone", written])
    assert result.exit_code != 0 and "nothing was recorded" in result.output
    assert "recorded" not in result.output.replace("nothing was recorded", "")
    assert opted_out(settings.database_url) == set()


def test_full_width_replies_are_opt_outs():
    assert all(is_opt_out(text) for text in ("Ｔ", "ＴＤ", "ｔｄ", "回Ｔ退订", " t "))
    assert not is_opt_out("什么时候发货？")
