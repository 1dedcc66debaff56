"""The receiver of buyers' SMS replies over real HTTP: opt-outs at once, forgeries refused."""

import json
import time

import pytest
import requests
from sqlmodel import select

from aftercare.webhooks import sign
from models import OptOut
from models.db import session_scope

SECRET = "sandbox-uplink-secret"


def post(url, items, *, secret=SECRET, stamp=None, body=None):
    body = body if body is not None else json.dumps(items, ensure_ascii=False).encode()
    stamp = stamp or str(int(time.time()))
    return requests.post(
        f"{url}/sms/uplink",
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-Aftercare-Timestamp": stamp,
            "X-Aftercare-Signature": sign(secret, stamp, body),
        },
        timeout=5,
    )


def opted_out(database_url):
    with session_scope(database_url) as session:
        return {o.value for o in session.exec(select(OptOut))}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_opt_out_reply_takes_effect_at_once_and_other_replies_do_not(settings, receiver):
    answer = post(
        receiver,
        [
            {"phone_number": "13812345678", "content": "TD", "send_time": "2026-11-20 10:00:00"},
            {"phone_number": "13900000001", "content": "什么时候发货？"},
        ],
    )
    assert answer.status_code == 200 and answer.json() == {"code": 0, "msg": "成功"}
    assert opted_out(settings.database_url) == {"13812345678"}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_forged_replayed_malformed_and_oversized_calls_are_refused(settings, receiver):
    items = [{"phone_number": "13812345678", "content": "TD"}]
    assert post(receiver, items, secret="wrong").status_code == 401
    assert post(receiver, items, stamp=str(int(time.time()) - 3600)).status_code == 401
    assert post(receiver, [], body=b"not json").status_code == 400
    assert post(receiver, [], body=b"[" + b" " * 70_000 + b"]").status_code == 413
    assert opted_out(settings.database_url) == set()

    stamp = str(int(time.time()))
    assert post(receiver, items, stamp=stamp).status_code == 200
    assert post(receiver, items, stamp=stamp).status_code == 409, "the same call again is a replay"
