"""The receiver over real HTTP: buyers' SMS replies and Kuaidi100 pushes; forgeries refused."""

import hashlib
import json
import time

import pytest
import requests
from sqlmodel import select

from aftercare.webhooks import sign
from models import OptOut, TrackingPush
from models.db import session_scope

SECRET = "sandbox-uplink-secret"
SALT = "sandbox-kuaidi100-salt"


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


def push(url, param, *, salt=SALT, sign=None, data=None):
    sign = sign or hashlib.md5((param + salt).encode()).hexdigest().upper()
    return requests.post(
        f"{url}/kuaidi100/push",
        data=data if data is not None else {"param": param, "sign": sign},
        timeout=5,
    )


def pushes(database_url):
    with session_scope(database_url) as session:
        return session.exec(select(TrackingPush)).all()


PARAM = json.dumps(
    {"status": "polling", "lastResult": {"nu": "YT9001", "com": "yuantong", "data": []}}
)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_push_delivered_twice_is_answered_twice_and_stored_once(settings, receiver):
    first, again = push(receiver, PARAM), push(receiver, PARAM)
    assert first.status_code == again.status_code == 200
    assert again.json()["result"] is True, "Kuaidi100 must stop retrying"
    stored = pushes(settings.database_url)
    assert [p.waybill for p in stored] == ["YT9001"]
    assert stored[0].digest == hashlib.sha256(PARAM.encode()).hexdigest()

    # A lower-case signature of the same push is the same push, not a new one.
    assert push(receiver, PARAM, sign=hashlib.md5((PARAM + SALT).encode()).hexdigest()).ok
    assert len(pushes(settings.database_url)) == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_forged_unsigned_and_oversized_pushes_are_refused(settings, receiver):
    assert push(receiver, PARAM, salt="guessed-salt").status_code == 401
    assert push(receiver, PARAM, sign="0" * 32).status_code == 401
    assert push(receiver, PARAM, sign="x" * 33).status_code == 401
    assert push(receiver, "", data={"sign": "0" * 32}).status_code == 400
    huge = json.dumps({"status": "polling", "message": "滞" * 40_000})
    assert push(receiver, huge).status_code == 413
    # A chunked body declares no length: it is refused once the limit is passed, all the same.
    chunked = requests.post(
        f"{receiver}/kuaidi100/push", data=iter([b"param=" + b"x" * 70_000]), timeout=5
    )
    assert chunked.status_code == 413
    assert pushes(settings.database_url) == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_chunked_oversized_reply_is_refused(settings, receiver):
    stamp = str(int(time.time()))
    answer = requests.post(
        f"{receiver}/sms/uplink",
        data=iter([b"[", b" " * 70_000, b"]"]),
        headers={"X-Aftercare-Timestamp": stamp, "X-Aftercare-Signature": "0" * 64},
        timeout=5,
    )
    assert answer.status_code == 413


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_receiver_publishes_nothing_about_itself(settings, receiver):
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert requests.get(f"{receiver}{path}", timeout=5).status_code == 404, path
