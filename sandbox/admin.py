"""The `/_sandbox/*` admin API: inspect SMS and stats, set faults and the clock (never faulted)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from .config import faults_from_dict
from .members import members_csv
from .planted import KINDS, plant
from .shops import SHOPS
from .wire import Reply, Request, json_reply

if TYPE_CHECKING:
    from .app import Sandbox


class AdminError(ValueError):
    """A bad admin request (answered 400)."""


class Admin:
    """Serve the JSON admin endpoints of one sandbox."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def handle(self, request: Request) -> Reply:
        """Route one admin request."""
        name = request.path.removeprefix("/_sandbox/").strip("/")
        if name == "members.csv":
            return self._members(request)
        routes = {
            "health": self._health,
            "sms": self._sms,
            "faults": self._faults,
            "clock": self._clock,
            "stats": self._stats,
            "robot": self._robot,
            "explanations": self._explanations,
            "conversions": self._conversions,
            "uplinks": self._uplinks,
            "reply": self._reply,
            "pushes": self._pushes,
            "deliver_pushes": self._deliver_pushes,
            "push_burst": self._push_burst,
            "plant": self._plant,
        }
        route = routes.get(name)
        if route is None:
            return json_reply({"error": f"no admin endpoint {name!r}"}, status=404)
        try:
            return json_reply(route(request))
        except (AdminError, ValueError, TypeError) as error:
            return json_reply({"error": str(error)}, status=400)

    def _health(self, request: Request) -> dict[str, Any]:
        sb = self.sandbox
        return {
            "status": "ok",
            "seed": sb.config.seed,
            "orders_per_shop": sb.config.orders_per_shop,
            "anchor": sb.world.anchor.isoformat(),
            "now": sb.clock.now().isoformat(),
            "trades": sb.world.trade_count,
            "shipments": len(sb.world.shipments),
            "ratings": len(sb.world.ratings),
        }

    def _sms(self, request: Request) -> dict[str, Any]:
        records = self.sandbox.sms_sent
        phone = request.params.get("phone")
        out_id = request.params.get("out_id")
        if phone:
            records = [r for r in records if r.phone == phone]
        if out_id:
            records = [r for r in records if r.out_id == out_id]
        return {"count": len(records), "sms": [r.to_dict() for r in records]}

    def _faults(self, request: Request) -> dict[str, Any]:
        faults = self.sandbox.faults
        if request.method == "POST":
            body = _json_body(request)
            if body.pop("clear", False):
                faults.clear()
            cleared = [p for p, v in body.items() if v is None]
            for provider in cleared:
                faults.clear(provider)
            settings = {p: v for p, v in body.items() if v is not None}
            for provider, config in faults_from_dict(settings).items():
                faults.set(provider, config)
        return faults.snapshot()

    def _clock(self, request: Request) -> dict[str, Any]:
        clock = self.sandbox.clock
        if request.method == "POST":
            body = _json_body(request)
            if "now" in body:
                clock.set(datetime.fromisoformat(str(body["now"]).replace("Z", "+00:00")))
            if "advance_seconds" in body:
                clock.advance(timedelta(seconds=float(body["advance_seconds"])))
            if body.get("tick") is True:
                clock.resume()
            elif body.get("tick") is False:
                clock.freeze()
        return {"now": clock.now().isoformat(), "ticking": clock.ticking}

    def _stats(self, request: Request) -> dict[str, Any]:
        return self.sandbox.stats.snapshot()

    def _robot(self, request: Request) -> dict[str, Any]:
        messages = self.sandbox.robot_messages
        return {"count": len(messages), "messages": [m.to_dict() for m in messages]}

    def _explanations(self, request: Request) -> dict[str, Any]:
        posted = self.sandbox.explanations
        return {
            "count": len(posted),
            "explanations": [
                {
                    "oid": e.oid,
                    "tid": e.tid,
                    "shop": e.shop,
                    "reply": e.reply,
                    "at": e.at.isoformat(),
                }
                for e in posted
            ],
        }

    def _conversions(self, request: Request) -> dict[str, Any]:
        made = list(self.sandbox.world.conversions)
        return {
            "count": len(made),
            "conversions": [{"tid": c.tid, "paid_at": c.paid_at.isoformat()} for c in made],
        }

    def _members(self, request: Request) -> Reply:
        """Answer the shop's member-centre export as CSV."""
        shop = request.params.get("shop", "")
        if shop not in SHOPS:
            return json_reply({"error": f"unknown shop {shop!r}; one of {sorted(SHOPS)}"}, 400)
        body = members_csv(self.sandbox.world.members(shop)).encode("utf-8")
        return Reply(
            body=body,
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="members-{shop}.csv"'},
        )

    def _uplinks(self, request: Request) -> dict[str, Any]:
        sb = self.sandbox
        if request.method == "POST":
            body = _json_body(request)
            if "url" in body:
                url = body["url"]
                if url is not None and not isinstance(url, str):
                    raise AdminError("url must be a string or null")
                sb.set_uplink_url(url)
        records = sb.uplinks
        return {
            "url": sb.uplink.url,
            "count": len(records),
            "uplinks": [r.to_dict() for r in records],
        }

    def _reply(self, request: Request) -> dict[str, Any]:
        if request.method != "POST":
            raise AdminError("POST a JSON object: phone, content, sign_name?, at?")
        body = _json_body(request)
        at = body.get("at")
        record = self.sandbox.reply(
            str(body.get("phone", "")),
            str(body.get("content", "")),
            sign_name=body.get("sign_name"),
            at=datetime.fromisoformat(str(at).replace("Z", "+00:00")) if at else None,
        )
        return record.to_dict()

    def _pushes(self, request: Request) -> dict[str, Any]:
        records = self.sandbox.pushes
        waybill = request.params.get("waybill")
        if waybill:
            records = [r for r in records if r.waybill == waybill]
        return {"count": len(records), "pushes": [r.to_dict() for r in records]}

    def _deliver_pushes(self, request: Request) -> dict[str, Any]:
        if request.method != "POST":
            raise AdminError("POST a JSON object: timeout? (real seconds, default 10)")
        body = _json_body(request)
        done = self.sandbox.deliver_pushes(timeout=float(body.get("timeout", 10.0)))
        return {"done": done, "count": len(self.sandbox.pushes)}

    def _push_burst(self, request: Request) -> dict[str, Any]:
        if request.method != "POST":
            raise AdminError("POST a JSON object: n, url?, salt?, concurrency?, timeout?")
        body = _json_body(request)
        for name in ("url", "salt"):
            if body.get(name) is not None and not isinstance(body[name], str):
                raise AdminError(f"{name} must be a string or null")
        timeout = body.get("timeout")
        result = self.sandbox.push_burst(
            int(body.get("n", 0)),
            url=body.get("url"),
            salt=body.get("salt"),
            concurrency=int(body.get("concurrency", 8)),
            timeout=float(timeout) if timeout is not None else None,
        )
        return result.to_dict()

    def _plant(self, request: Request) -> dict[str, Any]:
        if request.method != "POST":
            raise AdminError(f"POST a JSON object: kind (one of {KINDS}), shop, options")
        body = _json_body(request)
        options = {k: v for k, v in body.items() if k not in ("kind", "shop")}
        return plant(
            self.sandbox.world, str(body.get("kind")), shop=str(body.get("shop")), **options
        )


def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError as error:
        raise AdminError(f"body is not JSON: {error}") from None
    if not isinstance(body, dict):
        raise AdminError("body must be a JSON object")
    return body
