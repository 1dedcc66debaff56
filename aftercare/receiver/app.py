"""ASGI app receiving buyers' SMS replies (上行短信): opt-outs take effect at once."""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from aftercare.clock import parse_china_time, utcnow
from aftercare.privacy import mask_phone
from aftercare.rules.care import is_opt_out
from aftercare.settings import get_settings
from aftercare.store.contacts import opt_out, remember_webhook
from aftercare.webhooks import MAX_BODY_BYTES, check
from models.db import session_scope

log = logging.getLogger("aftercare.receiver")
OK = {"code": 0, "msg": "成功"}


def create_app() -> FastAPI:
    """Build the receiver."""
    app = FastAPI(title="aftercare receiver", docs_url=None, redoc_url=None)

    @app.post("/sms/uplink")
    async def sms_uplink(request: Request) -> JSONResponse:
        if int(request.headers.get("content-length") or 0) > MAX_BODY_BYTES:
            return JSONResponse({"code": 1, "msg": "body too large"}, status_code=413)
        body = await request.body()
        payload, status = await run_in_threadpool(_uplink, dict(request.headers), body)
        return JSONResponse(payload, status_code=status)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


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
    except ValueError:
        return None
