"""ASGI app receiving pushes: courier tracking updates, and buyers' SMS replies (opt-outs)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from aftercare import bounded_json
from aftercare.clients.kuaidi100 import verify_push
from aftercare.clock import parse_china_time, utcnow
from aftercare.phones import PhoneRefused, normalise_phone
from aftercare.privacy import install_log_redaction, mask_phone
from aftercare.receiver.push_inbox import PushInbox
from aftercare.rules.care import is_opt_out
from aftercare.settings import get_settings
from aftercare.store.contacts import opt_out, remember_webhook
from aftercare.store.rejected import record_rejects
from aftercare.webhooks import MAX_BODY_BYTES, check
from models.db import session_scope

log = logging.getLogger("aftercare.receiver")
OK = {"code": 0, "msg": "成功"}
# What Kuaidi100 expects back; anything else makes it push again later.
PUSH_OK = {"result": True, "returnCode": "200", "message": "成功"}
PUSH_REFUSED = {"result": False, "returnCode": "500"}


def create_app(on_pushes_stored: Callable[[int], None] | None = None) -> FastAPI:
    """Build the receiver; `on_pushes_stored` hears how many new pushes each commit stored."""
    # The receiver runs outside any flow: its process redacts its own logs.
    install_log_redaction(get_settings().secret_values())
    inbox = PushInbox(on_stored=on_pushes_stored)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await run_in_threadpool(inbox.stop)  # what was acknowledged is stored already

    # Nothing about the routes is published: no docs pages, no OpenAPI schema.
    app = FastAPI(
        title="aftercare receiver",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )

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
        payload, status = _verify_push(body)
        if status == 200:
            try:
                await asyncio.wrap_future(inbox.submit(payload["param"], utcnow()))
            except Exception:  # logged by the inbox; Kuaidi100 pushes again later
                return JSONResponse(PUSH_REFUSED | {"message": "not stored"}, status_code=500)
            # Success for a repeat too, so Kuaidi100 stops retrying what is already stored.
            return JSONResponse(PUSH_OK)
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
    now = utcnow()
    # The signature is checked case-insensitively, so a replay is known by its normal form.
    signature = (headers.get("x-aftercare-signature") or "").strip().lower()
    try:
        items = bounded_json.loads(body)
        if not isinstance(items, list):
            raise ValueError("the body is not a JSON array of replies")
    except ValueError as error:
        with session_scope(settings.database_url) as session:
            record_rejects(
                session=session,
                source="sms reply",
                shop_id=None,
                rejects=[(f"call {signature[:16]}", f"unreadable body: {error}")],
                now=now,
            )
        return {"code": 1, "msg": "malformed body"}, 400
    with session_scope(settings.database_url) as session:
        if not remember_webhook(session=session, source="sms_uplink", signature=signature, now=now):
            return {"code": 1, "msg": "replayed call"}, 409
        rejects = []
        for position, item in enumerate(items):
            outcome = _apply_reply(session, item, now)
            if outcome is not None:
                key = _reply_key(item) or f"call {signature[:16]} item {position}"
                rejects.append((key, outcome))
        # A bad reply is kept with its reason; the good ones beside it count all the same.
        record_rejects(session=session, source="sms reply", shop_id=None, rejects=rejects, now=now)
    return OK, 200


def _reply_key(item: object) -> str | None:
    sequence = item.get("sequence_id") if isinstance(item, dict) else None
    if isinstance(sequence, int | str) and not isinstance(sequence, bool) and str(sequence):
        return f"reply {str(sequence)[:40]}"
    return None


def _apply_reply(session: Session, item: object, now: datetime) -> str | None:
    """Apply one buyer reply (an opt-out, or nothing); return why it is bad, or None."""
    if not isinstance(item, dict):
        return "a reply is not a JSON object"
    content = item.get("content", "")
    if not isinstance(content, str):
        return "content is not text"
    try:
        phone = normalise_phone(item.get("phone_number"))
    except PhoneRefused as refused:
        return f"phone_number refused: {refused}"
    key = _reply_key(item)
    # The same reply (its sequence id) is applied once however often it is pushed.
    if key and not remember_webhook(session=session, source="sms_reply", signature=key, now=now):
        return None
    if is_opt_out(content):
        # The buyer's choice counts from when they sent it (the signed provider time).
        at = _sent_at(item.get("send_time")) or now
        opt_out(session=session, kind="phone", value=phone, source="sms reply", now=at)
        log.info("buyer %s opted out by SMS reply", mask_phone(phone))
    return None


def _sent_at(value: object) -> datetime | None:
    try:
        return parse_china_time(str(value)) if value else None
    except (ValueError, OverflowError):
        return None


def _verify_push(body: bytes) -> tuple[dict[str, Any], int]:
    """Check a Kuaidi100 push; return its param (status 200) or the refusal to answer."""
    form = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    param = (form.get("param") or [""])[0]
    sign = (form.get("sign") or [""])[0]
    if not param:
        return PUSH_REFUSED | {"message": "no param"}, 400
    if not verify_push(param, sign, get_settings().kuaidi100_salt.get_secret_value()):
        log.warning("kuaidi100 push refused: bad signature")
        return PUSH_REFUSED | {"message": "bad signature"}, 401
    return {"param": param}, 200
