"""The Sandbox: world, clock, faults and the providers behind one loopback server."""

from __future__ import annotations

import dataclasses
import logging
import threading
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from .admin import Admin
from .clock import SimClock
from .config import SandboxConfig
from .conversions import ReminderResponder
from .dingtalk import DingTalkRobot, RobotMessage
from .faults import FaultInjector
from .generator import build_world
from .jst_sms import OaidSms
from .kuaidi100 import Kuaidi100, Subscription
from .kuaidi100_push import BurstResult, Kuaidi100Pusher, PushRecord, burst_bodies, post_burst
from .oaid_decrypt import OaidDecryption
from .optouts import OptOutResponder
from .pinduoduo import Pinduoduo
from .pmc import PddMessageChannel
from .pmc_stream import PmcStream
from .ratings import Explanation
from .refunds import Refunds
from .server import Gateway, HttpServer, Provider
from .shops import ALL_SHOPS, SHOPS
from .sms import MOBILE, AliyunSms, SmsRecord, SmsTemplate
from .stats import SandboxStats
from .taobao import Taobao
from .tmc_stream import MessageStream
from .uplink import SmsUplink, UplinkRecord
from .wire import CHINA, Reply, Request, json_reply
from .world import World

log = logging.getLogger(__name__)

_PATHS = {
    "kuaidi100": "/kuaidi100",
    "taobao": "/taobao/router/rest",
    "sms": "/sms/",
    "dingtalk": "/dingtalk/robot/send",
    "pinduoduo": "/pdd/api/router",
}


class Sandbox:
    """Fake Kuaidi100, Taobao TOP, Alibaba Cloud SMS and a DingTalk robot over loopback HTTP."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config = config or SandboxConfig()
        self.clock = SimClock(config.anchor, tick=config.clock_tick)
        anchor = config.anchor or self.clock.now()
        self.world: World = build_world(
            config.seed,
            config.orders_per_shop,
            anchor,
            stage_weights=config.stage_weights,
            rating_weights=config.rating_weights,
            pinduoduo_orders_per_shop=config.pinduoduo_orders_per_shop,
        )
        self.world.attach_clock(self.clock.now)
        self.stats = SandboxStats()
        self.faults = FaultInjector(config.seed, config.faults)
        self.kuaidi100 = Kuaidi100(
            self.world, self.clock, self.stats, lock_minutes=config.kuaidi100_lock_minutes
        )
        self.pusher = Kuaidi100Pusher(
            self.world,
            self.clock,
            self.stats,
            self.faults,
            timeout=config.kuaidi100_push_timeout,
            backoff=config.kuaidi100_push_backoff,
            workers=config.kuaidi100_push_workers,
        )
        self.kuaidi100.on_subscribe = self.pusher.watch
        self.pusher.on_abort = self.kuaidi100.mark_aborted
        self.taobao = Taobao(
            self.world, self.clock, self.stats, skew_minutes=config.top_timestamp_skew_minutes
        )
        channel = self.taobao.channel
        channel.redeliver_after = timedelta(seconds=config.tmc_redeliver_seconds)
        channel.duplicate_rate = config.tmc_duplicate_rate
        channel.shuffle = config.tmc_shuffle
        self.tmc_stream = MessageStream(
            channel,
            self.taobao.secret,
            seed=config.seed,
            drop_rate=config.tmc_stream_drop_rate,
        )
        self.sms = AliyunSms(
            self.clock,
            self.stats,
            templates_path=Path(config.sms_templates_path) if config.sms_templates_path else None,
            per_phone_per_minute=config.sms_per_phone_per_minute,
            skew_minutes=config.sms_timestamp_skew_minutes,
            biz_seed=config.seed,
        )
        self.responder = ReminderResponder(self.world, config.seed, config.reminder_conversion_rate)
        self.uplink = SmsUplink(
            self.clock, url=config.sms_uplink_url, secret=config.sms_uplink_secret, seed=config.seed
        )
        self._dest_codes = {shop.sign_name: shop.sms_dest_code for shop in ALL_SHOPS.values()}
        self.opt_outs = OptOutResponder(
            self.uplink, config.seed, config.opt_out_reply_rate, dest_codes=self._dest_codes
        )
        self.sms.on_accept = self._on_sms
        self.taobao.oaid_sms = OaidSms(self.world, self.sms)
        self.taobao.oaid_decryption = OaidDecryption(
            self.taobao.oaid_sms.phone_of,
            lambda: self.clock.now().astimezone(CHINA).date(),
            daily_quota=config.oaid_decrypt_daily_quota,
            virtual_rate=config.oaid_virtual_rate,
            seed=config.seed,
        )
        self.dingtalk = DingTalkRobot(
            self.clock,
            self.stats,
            per_minute=config.robot_per_minute,
            skew_minutes=config.robot_timestamp_skew_minutes,
        )
        self.pinduoduo = Pinduoduo(self.world, self.clock, self.stats)
        self.pinduoduo.channel = PddMessageChannel(
            self.world, self.clock.now, self.pinduoduo.client_id, seed=config.seed,
            redeliver_after=channel.redeliver_after, duplicate_rate=config.tmc_duplicate_rate,
            shuffle=config.tmc_shuffle,
        )  # fmt: skip
        self.pmc_stream = PmcStream(
            self.pinduoduo.channel, self.pinduoduo.client_id, self.pinduoduo.secret,
            seed=config.seed,
        )  # fmt: skip
        self._new_refunds()
        self.providers: dict[str, Provider] = {
            "kuaidi100": self.kuaidi100,
            "taobao": self.taobao,
            "sms": self.sms,
            "dingtalk": self.dingtalk,
            "pinduoduo": self.pinduoduo,
        }
        self._gateway = Gateway(self.faults, self.stats)
        self._admin = Admin(self)
        self._server: HttpServer | None = None
        self._lock = threading.Lock()
        self.base_url: str | None = None

    def start(self) -> str:
        """Bind the loopback port, serve in a daemon thread and return the base URL."""
        with self._lock:
            if self._server is None:
                self._server = HttpServer(self, self.config.host, self.config.port)
                self._server.start()
                self.base_url = f"http://{self.config.host}:{self._server.port}"
                self.tmc_stream.start(self.config.host)
                self.pmc_stream.start(self.config.host)
                log.info("sandbox serving at %s (seed %s)", self.base_url, self.config.seed)
            assert self.base_url is not None
            return self.base_url

    def stop(self) -> None:
        """Stop serving, pushing SMS replies and Kuaidi100 pushes; safe to call twice."""
        with self._lock:
            if self._server is not None:
                self._server.stop()
                self._server = None
                self.tmc_stream.stop()
                self.pmc_stream.stop()
                log.info("sandbox at %s stopped", self.base_url)
        self.uplink.stop()
        self.pusher.stop()

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def reset(self) -> None:
        """Clear faults, stats, locks, subscriptions and their pushes, SMS, replies, robot
        messages, explanations."""
        # The world (payments, conversions), the clock and the uplink URL stay as they are.
        self.faults.clear()
        self.stats.reset()
        self.kuaidi100.reset()
        self.pusher.reset()
        self.sms.reset()
        self.uplink.reset()
        self.dingtalk.reset()
        self.taobao.rates.reset()
        self.taobao.channel.reset()
        self.pinduoduo.channel.reset()
        self.tmc_stream.drop_rate = self.config.tmc_stream_drop_rate
        self._new_refunds()  # refunds opened, answered or messaged by a test are forgotten
        if self.taobao.oaid_decryption is not None:
            self.taobao.oaid_decryption.used.clear()

    def _new_refunds(self) -> None:
        """The generated refunds, as at the start (the generation is deterministic)."""
        self.taobao.refunds = Refunds(
            self.world, self.clock.now, seed=self.config.seed, rate=self.config.refund_rate
        )
        self.taobao.channel.refunds = self.taobao.refunds
        self.pinduoduo.refunds = self.pinduoduo.channel.refunds = (
            self.taobao.refunds
        )  # one world: its after-sales, in PDD's words

    def url(self, provider: str) -> str:
        """Return the base URL a client of `provider` should be configured with."""
        if self.base_url is None:
            raise RuntimeError("sandbox not started; call start() first")
        if provider == "tmc_stream":  # the message channel's WebSocket, on a port of its own
            return self.tmc_stream.url
        if provider == "pmc_stream":  # Pinduoduo's message service, likewise
            return self.pmc_stream.url
        try:
            return self.base_url + _PATHS[provider]
        except KeyError:
            raise ValueError(
                f"unknown provider {provider!r}; expected one of {sorted(_PATHS)}"
            ) from None

    @property
    def sms_sent(self) -> list[SmsRecord]:
        """Return the SMS accepted so far, oldest first."""
        return self.sms.sent

    @property
    def uplinks(self) -> list[UplinkRecord]:
        """Return the buyers' SMS replies so far, in the order they were made."""
        return self.uplink.records

    def reply(
        self,
        phone: str,
        content: str,
        *,
        sign_name: str | None = None,
        at: datetime | None = None,
        written_as: str = "",
    ) -> UplinkRecord:
        """Have a buyer text `content` back at `at` (default: now, simulated); pushed async.

        `sign_name` is the signature of the SMS answered: by default that of the latest SMS
        sent to the phone, else the first shop's. `written_as` is the number as the gateway
        writes it (+86 138 0013 8000, full-width digits ...), the plain number by default.
        """
        if not MOBILE.fullmatch(phone):
            raise ValueError(f"not a mobile number: {phone!r}")
        if not content:
            raise ValueError("a reply needs some content")
        if sign_name is None:
            sent = [r for r in self.sms.sent if r.phone == phone]
            sign_name = sent[-1].sign_name if sent else next(iter(SHOPS.values())).sign_name
        if sign_name not in self._dest_codes:
            raise ValueError(f"unknown SMS signature {sign_name!r}")
        when = self.clock.now() if at is None else at
        if when.utcoffset() is None:
            raise ValueError("reply times must be timezone-aware")
        return self.uplink.add(
            phone,
            content,
            sign_name=sign_name,
            dest_code=self._dest_codes[sign_name],
            at=when,
            written_as=written_as,
        )

    def deliver_pending(self, timeout: float = 10.0) -> bool:
        """Wait until every reply due at the simulated clock is pushed (or given up)."""
        return self.uplink.deliver_pending(timeout)

    def set_uplink_url(self, url: str | None) -> None:
        """Push buyers' SMS replies to `url` from now on (None: keep them queued)."""
        self.uplink.set_url(url)

    def _on_sms(self, record: SmsRecord, template: SmsTemplate) -> None:
        """Let the world's buyers react to one accepted SMS (each reaction on its own)."""
        for react in (self.responder.on_sms, self.opt_outs.on_sms):
            try:
                react(record, template)
            except Exception:  # one reaction failing must not stop the others
                log.exception("reaction to sms %s failed", record.out_id)

    @property
    def robot_messages(self) -> list[RobotMessage]:
        """Return the group-robot messages accepted so far, oldest first."""
        return self.dingtalk.messages

    @property
    def explanations(self) -> list[Explanation]:
        """Return the rating explanations the shops posted so far, oldest first."""
        return self.taobao.rates.explanations

    @property
    def subscriptions(self) -> list[Subscription]:
        """Return the Kuaidi100 push subscriptions accepted so far (the latest per waybill,
        newest last: re-subscribing an aborted waybill replaces its earlier one)."""
        return list(self.kuaidi100.subscriptions.values())

    @property
    def pushes(self) -> list[PushRecord]:
        """Return the Kuaidi100 subscription pushes made so far, oldest first."""
        return self.pusher.records

    def deliver_pushes(self, timeout: float = 10.0) -> bool:
        """Wait until every Kuaidi100 push due at the simulated clock is acknowledged or given
        up; False when that took longer than `timeout` real seconds."""
        return self.pusher.deliver(timeout)

    def push_burst(
        self,
        n: int,
        url: str | None = None,
        salt: str | None = None,
        concurrency: int = 8,
        *,
        timeout: float | None = None,
    ) -> BurstResult:
        """Post n signed Kuaidi100 pushes as fast as `concurrency` threads can, for benchmarks.

        The pushes cycle through the shipped waybills with scans at the clock, each carrying
        its whole visible history (resultv2 detail); they are not recorded in `pushes` and
        see no faults or retries. `url` defaults to the newest subscription's callback URL;
        `salt` to the salt of the newest subscription to that URL (unsigned when none).
        """
        subscriptions = self.subscriptions[::-1]
        if url is None:
            if not subscriptions:
                raise ValueError("no callback URL: pass url= or subscribe a waybill first")
            url = subscriptions[0].callbackurl
        if salt is None:
            salt = next((s.salt for s in subscriptions if s.callbackurl == url), "")
        bodies = burst_bodies(self.world.shipments.values(), self.clock.now(), n, salt)
        result = post_burst(
            url,
            bodies,
            n,
            concurrency=concurrency,
            timeout=timeout if timeout is not None else self.config.kuaidi100_push_timeout,
        )
        self.stats.count_burst_pushes(n)
        return result

    def dispatch(self, request: Request) -> Reply:
        """Route one HTTP request to the admin API or a provider behind its faults."""
        path = request.path
        if path.startswith("/_sandbox/"):
            return self._admin.handle(request)
        if path.startswith("/kuaidi100/"):
            return self._gateway.serve(self.kuaidi100, request)
        if path.rstrip("/") == "/taobao/router/rest":
            return self._gateway.serve(self.taobao, request)
        if path in ("/sms", "/sms/"):
            return self._gateway.serve(self.sms, request)
        if path.rstrip("/") == "/dingtalk/robot/send":
            return self._gateway.serve(self.dingtalk, request)
        if path.rstrip("/") == "/pdd/api/router":
            return self._gateway.serve(self.pinduoduo, request)
        return json_reply({"error": f"nothing at {path}"}, status=404)


def serve_forever(config: SandboxConfig, port: int, *, stop: threading.Event | None = None) -> None:
    """Start a sandbox on `port` and block until interrupted or `stop` is set (for the CLI)."""
    sandbox = Sandbox(dataclasses.replace(config, port=port))
    base = sandbox.start()
    urls: dict[str, Any] = {name: sandbox.url(name) for name in _PATHS}
    log.info("sandbox ready at %s: %s", base, urls)
    try:
        (stop or threading.Event()).wait()
    except KeyboardInterrupt:
        log.info("sandbox interrupted")
    finally:
        sandbox.stop()
