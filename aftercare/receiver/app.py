"""ASGI app receiving pushes: courier tracking updates, and buyers' SMS replies (opt-outs)."""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from aftercare.clients.kuaidi100 import verify_push
from aftercare.clock import parse_china_time, utcnow
from aftercare.privacy import install_log_redaction, mask_phone
from aftercare.rules.care import is_opt_out
from aftercare.settings import get_settings
from aftercare.store.contacts import opt_out, remember_webhook
from aftercare.store.inbox import store_push
from aftercare.webhooks import MAX_BODY_BYTES, check
from models.db import session_scope

log = logging.getLogger("aftercare.receiver")
OK = {"code": 0, "msg": "成功"}
# What Kuaidi100 expects back (DOMAIN.md §3); anything else makes it push again later.
PUSH_OK = {"result": True, "returnCode": "200", "message": "成功"}
PUSH_REFUSED = {"result": False, "returnCode": "500"}


def create_app() -> FastAPI:
    """Build the receiver."""
    # The receiver runs outside any flow: its process redacts its own logs.
    install_log_redaction(get_settings().secret_values())
    app = FastAPI(title="aftercare receiver", docs_url=None, redoc_url=None)

    @app.post("/sms/uplink")
    async def sms_uplink(request: Request) -> JSONResponse:
        body = await _capped_body(request)
        if body is None:
            return JSONResponse({"code": 1, "msg": "body too large"}, status_code=413)
        payload, status = await run_in_threadpool(_uplink, dict(request.headers), body)
        return JSONResponse(payload, status_code=status)

    @app.post("/kuaidi100/push")
    async def kuaidi100_push(request: Request) -> JSONResponse:
        body = await _capped_body(request)
        if body is None:
            return JSONResponse(PUSH_REFUSED | {"message": "body too large"}, status_code=413)
        payload, status = await run_in_threadpool(_push, body)
        return JSONResponse(payload, status_code=status)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


async def _capped_body(request: Request) -> bytes | None:
    """Read the body, or None once it exceeds the limit (chunked bodies declare no length)."""
    declared = request.headers.get("content-length") or "0"
    if not declared.isdigit() or int(declared) > MAX_BODY_BYTES:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return None
    return bytes(body)


def _uplink(headers: dict[str, str], body: bytes) -> tuple[dict[str, Any], int]:
    settings = get_settings()
    reason = check(
        secret=settings.sms_uplink_secret.get_secret_value(),
        timestamp=headers.get("x-aftercare-timestamp"),
        signature=headers.get("x-aftercare-signature"),
        body=body,
        now=time.time(),
    )
    if reason:
        log.warning("sms uplink refused: %s", reason)
        status = 413 if len(body) > MAX_BODY_BYTES else 401
        return {"code": 1, "msg": reason}, status
    try:
        items = json.loads(body)
        replies = [
            (str(i["phone_number"]), str(i.get("content", "")), _sent_at(i.get("send_time")))
            for i in items
        ]
    except (ValueError, TypeError, KeyError):
        return {"code": 1, "msg": "malformed body"}, 400
    now = utcnow()
    with session_scope(settings.database_url) as session:
        signature = headers.get("x-aftercare-signature", "")
        if not remember_webhook(session=session, source="sms_uplink", signature=signature, now=now):
            return {"code": 1, "msg": "replayed call"}, 409
        for phone, content, sent_at in replies:
            if is_opt_out(content):
                # The buyer's choice counts from when they sent it (the signed provider time).
                at = sent_at or now
                opt_out(session=session, kind="phone", value=phone, source="sms reply", now=at)
                log.info("buyer %s opted out by SMS reply", mask_phone(phone))
    return OK, 200


def _sent_at(value: object) -> datetime | None:
    try:
        return parse_china_time(str(value)) if value else None
    except (ValueError, OverflowError):
        return None


def _push(body: bytes) -> tuple[dict[str, Any], int]:
    """Verify a Kuaidi100 push and store it as received; the logistics flow drains the inbox."""
    settings = get_settings()
    if len(body) > MAX_BODY_BYTES:
        return PUSH_REFUSED | {"message": "body too large"}, 413
    form = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    param = (form.get("param") or [""])[0]
    sign = (form.get("sign") or [""])[0]
    if not param:
        return PUSH_REFUSED | {"message": "no param"}, 400
    if not verify_push(param, sign, settings.kuaidi100_salt.get_secret_value()):
        log.warning("kuaidi100 push refused: bad signature")
        return PUSH_REFUSED | {"message": "bad signature"}, 401
    with session_scope(settings.database_url) as session:
        stored = store_push(session=session, param=param, now=utcnow())
    if stored is None:  # a replay, or Kuaidi100 retrying after our answer was lost
        log.info("kuaidi100 push received before: kept once")
    # Success either way, so Kuaidi100 stops retrying what is already stored.
    return PUSH_OK, 200
