"""Client-side signing written from the providers' documentation, independent of the sandbox."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import requests

KD100_CUSTOMER = "SANDBOXCUSTOMER0001"
KD100_KEY = "sandbox-kuaidi100-key"
TOP_APP_KEY = "12345678"
TOP_SECRET = "sandbox-top-secret"
TOP_SESSIONS = {
    "sishi": "sandbox-session-sishi",
    "xiaoya": "sandbox-session-xiaoya",
    "mumu": "sandbox-session-mumu",
}
SMS_KEY_ID = "SANDBOXSMSACCESSKEY"
SMS_SECRET = "sandbox-sms-secret"

CHINA = timezone(timedelta(hours=8))


def kd100_form(query: dict[str, Any], *, key: str = KD100_KEY, customer: str = KD100_CUSTOMER):
    """Build the query.do form: sign = MD5(param + key + customer), upper-case hex."""
    param = json.dumps(query, ensure_ascii=False)
    sign = hashlib.md5((param + key + customer).encode()).hexdigest().upper()
    return {"customer": customer, "param": param, "sign": sign}


def kd100_query(
    http: requests.Session, base: str, com: str, num: str, **extra: Any
) -> requests.Response:
    """POST a signed real-time query."""
    query = {"com": com, "num": num, "resultv2": "1", **extra}
    return http.post(f"{base}/poll/query.do", data=kd100_form(query), timeout=5)


def top_params(
    method: str,
    shop: str = "sishi",
    *,
    sign_method: str = "md5",
    secret: str = TOP_SECRET,
    when: datetime | None = None,
    session: str | None = None,
    **params: Any,
) -> dict[str, str]:
    """Build signed TOP gateway params: sorted k1v1k2v2..., MD5(secret+s+secret) or HMAC-MD5."""
    stamp = (when or datetime.now(UTC)).astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")
    all_params = {
        "method": method,
        "app_key": TOP_APP_KEY,
        "session": session if session is not None else TOP_SESSIONS[shop],
        "timestamp": stamp,
        "format": "json",
        "v": "2.0",
        "sign_method": sign_method,
        **{k: str(v) for k, v in params.items()},
    }
    text = "".join(k + all_params[k] for k in sorted(all_params))
    if sign_method == "hmac":
        digest = hmac.new(secret.encode(), text.encode(), hashlib.md5).hexdigest()
    else:
        digest = hashlib.md5((secret + text + secret).encode()).hexdigest()
    all_params["sign"] = digest.upper()
    return all_params


def top_call(http: requests.Session, url: str, method: str, **kwargs: Any) -> dict[str, Any]:
    """POST a signed TOP call and return the decoded JSON."""
    response = http.post(url, data=top_params(method, **kwargs), timeout=5)
    assert response.status_code == 200
    return response.json()


def _enc(value: str) -> str:
    return quote(value, safe="~")


def sms_params(
    action: str,
    params: dict[str, str],
    *,
    http_method: str = "POST",
    secret: str = SMS_SECRET,
    key_id: str = SMS_KEY_ID,
    nonce: str | None = None,
    when: datetime | None = None,
) -> dict[str, str]:
    """Build Alibaba Cloud RPC params signed with HMAC-SHA1 (signature version 1.0)."""
    all_params = {
        "Action": action,
        "Version": "2017-05-25",
        "Format": "JSON",
        "AccessKeyId": key_id,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureNonce": nonce or uuid.uuid4().hex,
        "Timestamp": (when or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "RegionId": "cn-hangzhou",
        **params,
    }
    canonical = "&".join(f"{_enc(k)}={_enc(all_params[k])}" for k in sorted(all_params))
    to_sign = f"{http_method}&{_enc('/')}&{_enc(canonical)}"
    mac = hmac.new((secret + "&").encode(), to_sign.encode(), hashlib.sha1).digest()
    all_params["Signature"] = base64.b64encode(mac).decode()
    return all_params


def sms_call(
    http: requests.Session, url: str, action: str, params: dict[str, str], **kwargs: Any
) -> requests.Response:
    """POST a signed SMS API call."""
    return http.post(url, data=sms_params(action, params, **kwargs), timeout=5)


ROBOT_TOKEN = "sandbox-robot-token"
ROBOT_SECRET = "SECsandbox-robot-secret"


def robot_query(
    *,
    token: str = ROBOT_TOKEN,
    secret: str = ROBOT_SECRET,
    when: datetime | None = None,
) -> str:
    """Build the robot query: sign = urlencode(base64(HMAC-SHA256(secret, ts + "\\n" + secret)))."""
    timestamp = str(int((when or datetime.now(UTC)).timestamp() * 1000))
    mac = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    sign = quote(base64.b64encode(mac).decode(), safe="")
    return f"access_token={quote(token, safe='')}&timestamp={timestamp}&sign={sign}"


def robot_send(
    http: requests.Session, url: str, body: dict[str, Any], **kwargs: Any
) -> requests.Response:
    """POST one signed message to the group robot."""
    return http.post(f"{url}?{robot_query(**kwargs)}", json=body, timeout=5)


UPLINK_SECRET = "sandbox-uplink-secret"


def uplink_signature(timestamp: str, body: bytes, *, secret: str = UPLINK_SECRET) -> str:
    """Sign an SMS uplink push: lowercase hex HMAC-SHA256(secret, timestamp + "\\n" + body)."""
    return hmac.new(secret.encode(), timestamp.encode() + b"\n" + body, hashlib.sha256).hexdigest()


def kd100_push_sign(param: str, salt: str) -> str:
    """Sign a Kuaidi100 push: MD5(param + salt) as 32 upper-case hex, over the param text."""
    return hashlib.md5(param.encode("utf-8") + salt.encode("utf-8")).hexdigest().upper()
