"""One settings object for the whole project (environment prefix AFTERCARE_)."""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from aftercare.home import default_database_url
from aftercare.rules.refunds import PINDUODUO_STATUSES

# The embedded default is the local sandbox; real deployments set every URL and credential.
SANDBOX_BASE = "http://127.0.0.1:8765"
SANDBOX_SECRETS = {
    "sandbox-kuaidi100-key",
    "sandbox-top-secret",
    "sandbox-sms-secret",
    "sandbox-kuaidi100-salt",
    "sandbox-robot-token",
    "SECsandbox-robot-secret",
    "sandbox-uplink-secret",
    "sandbox-pdd-secret",
}


class RetrySettings(BaseModel):
    """How hard the HTTP core retries transient provider failures."""

    max_attempts: int = Field(5, ge=1, le=20)
    backoff_base_seconds: float = Field(0.5, ge=0)
    backoff_cap_seconds: float = Field(30.0, ge=0)
    retry_after_cap_seconds: float = Field(60.0, ge=0)
    connect_timeout_seconds: float = Field(3.05, gt=0)
    read_timeout_seconds: float = Field(10.0, gt=0)


class LogisticsSettings(BaseModel):
    """Thresholds of the logistics-check pipeline: when a parcel is late, stalled or lost."""

    no_tracking_hours: int = Field(24, ge=1)
    stalled_minor_hours: int = Field(48, ge=1)
    stalled_serious_hours: int = Field(120, ge=1)
    expired_days: int = Field(30, ge=1)
    # Kuaidi100 locks a waybill queried more than once per 30 min.
    query_min_interval_minutes: int = Field(30, ge=30)
    # A failed check is retried after this back-off, never sooner than the query interval.
    error_recheck_minutes: int = Field(60, ge=30)
    # After this many failed checks in a row an agent is asked to track the parcel by hand.
    untrackable_after_failures: int = Field(3, ge=1)
    # A courier scan stamped further ahead of our clock than this is left out of the history.
    scan_clock_skew_minutes: int = Field(10, ge=0, le=1440)
    # How often a parcel is re-checked, by normalised status. The provider asks for
    # subscriptions rather than polling, so each status waits its turn.
    recheck_minutes: dict[str, int] = Field(
        default_factory=lambda: {
            "pending": 360,
            "info_received": 240,
            "in_transit": 240,
            "out_for_delivery": 60,
            "exception": 120,
            "refused": 360,
            "returned": 720,
        }
    )
    # How long a run owns the shipments it claimed before another run may take them.
    claim_lease_minutes: int = Field(15, ge=1)
    default_max_transit_days: int = Field(5, ge=1)
    max_transit_days_by_province: dict[str, int] = Field(
        default_factory=lambda: {
            "新疆维吾尔自治区": 8,
            "西藏自治区": 8,
            "青海省": 7,
            "宁夏回族自治区": 6,
            "甘肃省": 6,
            "内蒙古自治区": 6,
            "海南省": 6,
            "黑龙江省": 6,
            "吉林省": 5,
            "云南省": 5,
            "贵州省": 5,
        }
    )
    # Shipped orders are synced this far back on a shop's first run.
    initial_sync_days: int = Field(45, ge=1)
    chunk_size: int = Field(200, ge=1, le=5000)
    max_concurrent_chunks: int = Field(4, ge=1, le=64)
    queries_in_flight_per_chunk: int = Field(4, ge=1, le=32)
    # Track by subscription (Kuaidi100 pushes each new scan); polling is the fallback.
    subscribe: bool = True
    # A subscribed parcel is polled only when its pushes have been quiet this long.
    push_quiet_hours: int = Field(12, ge=1)
    resubscribe_after_minutes: int = Field(30, ge=30)
    subscriptions_per_run: int = Field(20_000, ge=0)
    drain_batch_size: int = Field(500, ge=1, le=5000)
    max_shipments_per_run: int = Field(100_000, ge=1)


class ReturnAddressSettings(BaseModel):
    """A shop's address for returned goods."""

    name: str = Field(min_length=1, max_length=40)
    address: str = Field(min_length=1, max_length=200)
    mobile: str = Field(min_length=5, max_length=20)


RefundStatus = Literal[
    "WAIT_SELLER_AGREE", "WAIT_BUYER_RETURN_GOODS", "WAIT_SELLER_CONFIRM_GOODS",
    "SELLER_REFUSE_BUYER", "CLOSED", "SUCCESS",
]  # fmt: skip


class RefundSettings(BaseModel):
    """Refunds and returns (退换货): synced from the platform, their timers watched."""

    # How far back the first refund sync reaches.
    initial_sync_days: int = Field(30, ge=1, le=90)
    # Staff are told when a refund waiting on the seller is this close to its deadline, once
    # per margin; past the deadline the platform decides for the buyer.
    alert_margin_hours: list[float] = Field(default_factory=lambda: [12.0, 2.0], min_length=1)
    # Kinds of refund the shop lets the pipeline agree to by itself, each up to an amount in
    # yuan (e.g. {"out_of_stock": 300}); nothing is automatic unless listed. Per shop below.
    auto: dict[str, float] = Field(default_factory=dict)
    auto_by_shop: dict[str, dict[str, float]] = Field(default_factory=dict)
    # A new request is answered with the kind's message; older ones (a first sync) are not.
    tell_buyers_within_hours: float = Field(24.0, gt=0)
    # A buyer's return parcel is asked about this often until it arrives, at most so many a run.
    return_check_hours: float = Field(4.0, gt=0)
    returns_per_run: int = Field(500, ge=1)
    # Where returned goods go, per shop; agreeing to a return needs it.
    return_addresses: dict[str, ReturnAddressSettings] = Field(default_factory=dict)

    # Corrections to our reading of Pinduoduo's after_sales_status codes, in Taobao's words
    # (e.g. {"8": "WAIT_SELLER_AGREE"}); "3+return" is code 3 with the return waybill.
    pinduoduo_statuses: dict[str, RefundStatus] = Field(default_factory=dict)

    @field_validator("alert_margin_hours")
    @classmethod
    def _positive_margins(cls, hours: list[float]) -> list[float]:
        if any(h <= 0 for h in hours):
            raise ValueError("every margin is a number of hours above 0")
        return hours

    def pinduoduo_reading(self) -> dict[str, str]:
        """Every Pinduoduo code in Taobao's words: our reading, with the shop's corrections."""
        return {**PINDUODUO_STATUSES, **self.pinduoduo_statuses}

    def auto_for(self, code: str) -> dict[str, float]:
        """The kinds (and amounts) a shop lets the pipeline agree to by itself."""
        return self.auto_by_shop.get(code, self.auto)


class SyncSettings(BaseModel):
    """Incremental order sync from the shop API (taobao.trades.sold.increment.get)."""

    window_minutes: int = Field(1440, ge=1, le=1440)
    page_size: int = Field(50, ge=40, le=100)
    # Modification windows overlap by this much so late-indexed trades are not missed.
    overlap_minutes: int = Field(5, ge=0, le=60)
    # The newest minutes are left for the next run: the platform indexes changes with a lag.
    lag_minutes: int = Field(1, ge=0, le=30)
    # A record stamped further than this ahead of our clock is refused (TOP allows 10 min skew).
    future_tolerance_minutes: int = Field(10, ge=0, le=1440)
    # Off: trades arrive by the platform's messages only (the increment poll no longer runs).
    poll_trades: bool = True


MaskedRoute = Literal["oaid_sms", "decrypt_sms", "refund_message"]
MASKED_ROUTES: tuple[MaskedRoute, ...] = ("oaid_sms", "decrypt_sms")


class ChannelSettings(BaseModel):
    """How buyers are reached: by their number, or by OAID through the platform (聚石塔)."""

    # Texting a masked buyer by OAID needs the platform's SMS service (聚石塔) with its own
    # reviewed signature and templates: off until the shop has subscribed.
    oaid_sms: bool = False
    shops: dict[str, bool] = Field(default_factory=dict)  # per-shop oaid_sms
    # Decrypting an OAID (taobao.top.oaid.decrypt) needs the platform's permission for the
    # shop; the number is used for one send and never stored.
    decrypt: bool = False
    decrypt_shops: dict[str, bool] = Field(default_factory=dict)
    # Which kinds of message may decrypt, and under which scene: 2001 after-sales, 2002 care.
    # Payment reminders have no scene: they never decrypt.
    decrypt_scenes: dict[str, str] = Field(
        default_factory=lambda: {
            "logistics": "2001",
            "review": "2001",
            "refund": "2001",
            "care": "2002",
        }
    )
    # OAIDs a shop may decrypt per day (the platform's quota; unconfirmed, set it to yours).
    decrypt_daily_quota: int = Field(1000, ge=0)
    # How a buyer whose number is masked is reached, tried in this order: "oaid_sms" (the
    # platform texts the OAID), "decrypt_sms" (decrypt, then text the number) and
    # "refund_message" (a message on the buyer's open refund, for after-sales notices; only
    # where the shop lists it); when none can, the message goes to the agents' hand-off list.
    # Per shop in `routes_by_shop`.
    routes: list[MaskedRoute] = Field(default_factory=lambda: list(MASKED_ROUTES))
    routes_by_shop: dict[str, list[MaskedRoute]] = Field(default_factory=dict)

    def oaid_sms_for(self, code: str) -> bool:
        """Tell whether a shop may text buyers by OAID."""
        return self.shops.get(code, self.oaid_sms)

    def masked_routes(self, code: str) -> tuple[str, ...]:
        """The ways this shop may reach a masked buyer, in its order (only those it has)."""
        allowed = {
            "oaid_sms": self.oaid_sms_for(code),
            "decrypt_sms": self.decrypt_for(code),
            "refund_message": True,  # a seller's own API: no subscription needed
        }
        return tuple(r for r in self.routes_by_shop.get(code, self.routes) if allowed[r])

    def decrypt_for(self, code: str) -> bool:
        """Tell whether a shop may decrypt OAIDs."""
        return self.decrypt_shops.get(code, self.decrypt)


class EventSettings(BaseModel):
    """The shop platform's message channel (TMC): its WebSocket stream, or polling."""

    enabled: bool = False
    group: str = Field("default", max_length=40)
    # "stream": `aftercare serve` runs the WebSocket consumer and the every-minute run polls
    # only while the stream has been quiet for `stream_quiet_minutes`; "poll": polling alone.
    transport: Literal["stream", "poll"] = "poll"
    stream_url: str = "ws://mc.api.taobao.com/"
    # Pinduoduo's message service (PMC), consumed beside Taobao's when a shop sells there.
    pinduoduo_stream_url: str = "wss://message-api.pinduoduo.com"
    # How long a pull waits for more messages before the batch is stored.
    stream_wait_seconds: float = Field(1.0, gt=0, le=30)
    stream_quiet_minutes: int = Field(3, ge=1)
    # Stored messages start a platform-events run at most this often (an automation).
    trigger_seconds: float = Field(5.0, ge=0)
    # Messages per consume call (the platform allows 10-200) and calls per run at the most.
    batch_size: int = Field(100, ge=10, le=200)
    max_batches_per_run: int = Field(50, ge=1, le=1000)
    # Messages applied per run; a claimed batch nobody finished is taken again after the lease.
    apply_batch_size: int = Field(500, ge=1, le=5000)
    lease_minutes: int = Field(5, ge=1)


class DispatchSettings(BaseModel):
    """Sending the outbox."""

    batch_size: int = Field(200, ge=1, le=5000)
    max_concurrent_batches: int = Field(2, ge=1, le=32)
    max_attempts: int = Field(6, ge=1)
    retry_backoff_minutes: int = Field(5, ge=0)
    # A claimed message whose sender vanished is reconciled with the provider after this.
    lease_minutes: int = Field(10, ge=1)
    # Messages in doubt looked up per reconcile task (grouped by phone and day).
    reconcile_batch_size: int = Field(200, ge=1, le=5000)
    # How far back QuerySendDetails lists sends (Alibaba Cloud: the last 30 days).
    lookup_horizon_days: int = Field(30, ge=1)
    # A lookup that failed is tried again this much later; the message stays in doubt.
    lookup_retry_minutes: int = Field(15, ge=1)
    max_messages_per_run: int = Field(100_000, ge=1)


class RetentionSettings(BaseModel):
    """How long personal data of finished orders is kept (PIPL art. 19: no longer than needed)."""

    # Counted from an order's last change; a year covers returns, disputes and the yearly review.
    days: int = Field(365, ge=30)
    # Raw provider records (processed push payloads, webhook receipts, rejected inputs) and the
    # contact caps serve for days, not a year.
    raw_days: int = Field(30, ge=7)
    batch_size: int = Field(500, ge=1, le=5000)


class QuietHoursSettings(BaseModel):
    """When customers may be messaged, in the shop's local time."""

    start: time = time(9, 0)
    end: time = time(22, 0)
    # Carriers accept promotional texts only until 21:00: marketing stops earlier.
    marketing_end: time = time(21, 0)


class ReminderOverrides(BaseModel):
    """Per-shop changes to the unpaid-order reminder settings (unset fields keep the default)."""

    automatic_after_minutes: int | None = Field(None, ge=10, le=2880)
    pre_close_minutes: int | None = Field(None, ge=30, le=1440)
    quiet_hours_policy: Literal["defer", "skip"] | None = None
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    enabled: bool | None = None


class ReminderSettings(BaseModel):
    """The unpaid-order reminder (催付) stages and filters."""

    enabled: bool = True
    automatic_after_minutes: int = Field(30, ge=10, le=2880)
    pre_close_minutes: int = Field(120, ge=30, le=1440)
    close_after_hours: int = Field(72, ge=1)
    # Group-buy and flash trades close after 30 minutes: one reminder, early enough to act on.
    group_buy_types: list[str] = Field(default_factory=lambda: ["tuangou"])
    group_buy_close_minutes: int = Field(30, ge=5)
    group_buy_remind_after_minutes: int = Field(5, ge=1)
    group_buy_deadline_minutes: int = Field(25, ge=1)
    quiet_hours_policy: Literal["defer", "skip"] = "defer"
    # A reminder deferred to the morning goes out within this long after the window opens.
    deferred_grace_minutes: int = Field(60, ge=1)
    min_amount: Decimal = Decimal("1")
    max_amount: Decimal = Decimal("50000")
    # A buyer who paid any order since the start of yesterday is not chased.
    skip_if_paid_within_days: int = Field(1, ge=0)
    attribution_hours: int = Field(24, ge=1)
    chunk_size: int = Field(500, ge=1, le=5000)
    max_concurrent_chunks: int = Field(2, ge=1, le=32)
    max_orders_per_run: int = Field(200_000, ge=1)
    claim_lease_minutes: int = Field(10, ge=1)
    shops: dict[str, ReminderOverrides] = Field(default_factory=dict)

    def for_shop(self, code: str) -> ReminderSettings:
        """Return the settings with the shop's overrides applied."""
        overrides = self.shops.get(code)
        if overrides is None:
            return self
        return self.model_copy(update=overrides.model_dump(exclude_none=True))


class ReviewOverrides(BaseModel):
    """Per-shop changes to the review follow-up settings."""

    message_buyer: bool | None = None
    compensation: str | None = None


class AlertSettings(BaseModel):
    """Staff alerts through the group robot (DingTalk/WeCom: 20 messages a minute per robot)."""

    # Digests a run posts at most: well within the robot's 20 a minute, which it enforces with
    # a 10-minute ban.
    posts_per_run: int = Field(10, ge=1, le=20)
    lines_per_digest: int = Field(30, ge=1, le=100)
    retry_minutes: int = Field(5, ge=1)
    lease_minutes: int = Field(5, ge=1)


class ReviewSettings(BaseModel):
    """The bad-review second follow-up (中差评二次跟进): contact times and explanation deadline."""

    # When agents call buyers, in the shop's local time.
    working_hours_start: time = time(9, 0)
    working_hours_end: time = time(18, 0)
    # New ratings are fetched again this far back, in case the platform indexed them late.
    lookback_days: int = Field(1, ge=0, le=30)
    initial_sync_days: int = Field(30, ge=1, le=180)
    page_size: int = Field(100, ge=1, le=150)
    # The platform takes an explanation up to 30 days after the rating.
    explanation_window_days: int = Field(30, ge=1)
    # 0: post on the last allowed day; n: n days earlier.
    explain_days_before_deadline: int = Field(0, ge=0, le=29)
    max_unreachable_attempts: int = Field(3, ge=1)
    compensation: str = "5元无门槛优惠券"
    message_buyer: bool = True
    causes_file: str | None = None
    shops: dict[str, ReviewOverrides] = Field(default_factory=dict)

    def for_shop(self, code: str) -> ReviewSettings:
        """Return the settings with the shop's overrides applied."""
        overrides = self.shops.get(code)
        if overrides is None:
            return self
        return self.model_copy(update=overrides.model_dump(exclude_none=True))


TOUCHPOINTS = ("shipped", "delivered", "revisit", "confirmed", "birthday", "holiday", "new_product")


class CareOverrides(BaseModel):
    """Per-shop changes to the care settings."""

    touchpoints: dict[str, bool] | None = None
    revisit_days: int | None = Field(None, ge=1, le=60)
    revisit_is_marketing: bool | None = None
    marketing_per_week: int | None = Field(None, ge=0, le=14)
    marketing_per_day: int | None = Field(None, ge=0, le=5)


class CareSettings(BaseModel):
    """Care messages (关怀) and the frequency caps across all pipelines."""

    # Each touch-point can be turned off (per shop through `shops`).
    touchpoints: dict[str, bool] = Field(default_factory=lambda: dict.fromkeys(TOUCHPOINTS, True))
    revisit_days: int = Field(3, ge=1, le=60)
    # A shop may treat its revisit as marketing: then it needs consent and carries 回T退订.
    revisit_is_marketing: bool = False
    confirmed_thanks_within_hours: int = Field(12, ge=1, le=72)
    auto_confirm_days: int = Field(10, ge=1)
    # Order events older than this get no notice (e.g. on the first run over old orders).
    notice_max_age_hours: int = Field(48, ge=1)
    marketing_per_week: int = Field(2, ge=0, le=14)
    marketing_per_day: int = Field(1, ge=0, le=5)
    # Never two messages of any kind to one phone within this gap, urgent after-sales aside.
    min_gap_minutes: int = Field(30, ge=0)
    shops: dict[str, CareOverrides] = Field(default_factory=dict)

    def for_shop(self, code: str) -> CareSettings:
        """Return the settings with the shop's overrides applied."""
        overrides = self.shops.get(code)
        if overrides is None:
            return self
        update = overrides.model_dump(exclude_none=True)
        if "touchpoints" in update:
            update["touchpoints"] = {**self.touchpoints, **update["touchpoints"]}
        return self.model_copy(update=update)

    def enabled_touchpoints(self) -> frozenset[str]:
        """Return the touch-points that are on."""
        return frozenset(name for name, on in self.touchpoints.items() if on)


class WorkbenchSettings(BaseModel):
    """The agents' workbench: where it listens and how its sign-ins are kept."""

    host: str = "127.0.0.1"
    port: int = 8780
    # Browsers send a Secure cookie only over HTTPS (and to localhost): keep it on behind TLS.
    secure_cookies: bool = True
    session_hours: float = Field(12.0, gt=0, le=24 * 7)
    # The queue page lists this many cases at most (filters narrow it).
    queue_rows: int = Field(100, ge=10, le=1000)


class Settings(BaseSettings):
    """Everything configurable: database, providers, thresholds, time zone."""

    model_config = SettingsConfigDict(
        env_prefix="AFTERCARE_", env_nested_delimiter="__", env_file=".env", extra="ignore"
    )

    environment: Literal["sandbox", "production"] = "sandbox"
    # Default: aftercare.db in the data folder (AFTERCARE_DATA_DIR, else ./var).
    database_url: str = Field(default_factory=default_database_url)
    timezone: str = "Asia/Shanghai"

    kuaidi100_url: str = f"{SANDBOX_BASE}/kuaidi100"
    kuaidi100_customer: str = "SANDBOXCUSTOMER0001"
    kuaidi100_key: SecretStr = SecretStr("sandbox-kuaidi100-key")
    kuaidi100_callback_url: str = "http://127.0.0.1:8766/kuaidi100/push"
    kuaidi100_salt: SecretStr = SecretStr("sandbox-kuaidi100-salt")
    # Real accounts default to one query per second; the sandbox allows more.
    kuaidi100_queries_per_second: float = Field(1.0, gt=0)

    taobao_url: str = f"{SANDBOX_BASE}/taobao/router/rest"
    taobao_app_key: str = "12345678"
    taobao_app_secret: SecretStr = SecretStr("sandbox-top-secret")
    taobao_sign_method: Literal["md5", "hmac"] = "md5"
    # Seller session keys by shop code; each authorises the app for one shop.
    taobao_sessions: dict[str, SecretStr] = Field(
        default_factory=lambda: {
            "sishi": SecretStr("sandbox-session-sishi"),
            "xiaoya": SecretStr("sandbox-session-xiaoya"),
            "mumu": SecretStr("sandbox-session-mumu"),
        }
    )

    # The second platform: Pinduoduo's gateway, the app's client id and secret, and each
    # Pinduoduo shop's access token by shop code (a shop names its platform when registered).
    pinduoduo_url: str = f"{SANDBOX_BASE}/pdd/api/router"
    pinduoduo_client_id: str = "sandbox-pdd-client"
    pinduoduo_client_secret: SecretStr = SecretStr("sandbox-pdd-secret")
    # Each Pinduoduo shop's mall id by shop code: its message service names shops by it.
    pinduoduo_malls: dict[str, int] = Field(default_factory=lambda: {"guoyuan": 9424847})
    pinduoduo_tokens: dict[str, SecretStr] = Field(
        default_factory=lambda: {"guoyuan": SecretStr("sandbox-pdd-token-guoyuan")}
    )
    pinduoduo_calls_per_second: float = Field(20.0, gt=0)

    sms_url: str = f"{SANDBOX_BASE}/sms/"
    sms_access_key_id: str = "SANDBOXSMSACCESSKEY"
    sms_access_key_secret: SecretStr = SecretStr("sandbox-sms-secret")
    sms_region: str = "cn-hangzhou"

    quiet_hours: QuietHoursSettings = Field(default_factory=QuietHoursSettings)
    reminders: ReminderSettings = Field(default_factory=ReminderSettings)
    reviews: ReviewSettings = Field(default_factory=ReviewSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    care: CareSettings = Field(default_factory=CareSettings)
    robot_url: str = f"{SANDBOX_BASE}/dingtalk/robot/send"
    robot_access_token: SecretStr = SecretStr("sandbox-robot-token")
    robot_secret: SecretStr = SecretStr("SECsandbox-robot-secret")
    # Buyers' SMS replies (opt-outs) arrive signed at the receiver with this shared secret.
    sms_uplink_secret: SecretStr = SecretStr("sandbox-uplink-secret")
    receiver_port: int = 8766
    # Where the receiver listens; behind a proxy that terminates TLS in production.
    receiver_host: str = "127.0.0.1"

    # Pace every worker together with Prefect global rate limits (created by the set-up);
    # off, each process paces its own calls.
    prefect_rate_limits: bool = False
    taobao_calls_per_second: float = Field(20.0, gt=0)
    sms_sends_per_second: float = Field(50.0, gt=0)

    # An outbound proxy for provider calls, if the network needs one (read once, not per call).
    http_proxy: str | None = None

    # Simulations and tests only: the world's time is pinned here (production leaves it unset).
    simulated_now: datetime | None = None

    retry: RetrySettings = Field(default_factory=RetrySettings)
    logistics: LogisticsSettings = Field(default_factory=LogisticsSettings)
    sync: SyncSettings = Field(default_factory=SyncSettings)
    events: EventSettings = Field(default_factory=EventSettings)
    channels: ChannelSettings = Field(default_factory=ChannelSettings)
    refunds: RefundSettings = Field(default_factory=RefundSettings)
    dispatch: DispatchSettings = Field(default_factory=DispatchSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    workbench: WorkbenchSettings = Field(default_factory=WorkbenchSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Credentials come from Prefect Secret blocks first, then the environment."""
        from aftercare.secrets import secrets_source

        return (
            init_settings,
            secrets_source(settings_cls),
            env_settings,
            dotenv_settings,
            file_secret_settings,
        )

    @model_validator(mode="after")
    def _refuse_sandbox_secrets_in_production(self) -> Settings:
        if self.environment == "production":
            secrets = [
                self.kuaidi100_key,
                self.kuaidi100_salt,
                self.taobao_app_secret,
                self.sms_access_key_secret,
                self.robot_access_token,
                self.robot_secret,
                self.sms_uplink_secret,
                self.pinduoduo_client_secret,
                *self.taobao_sessions.values(),
                *self.pinduoduo_tokens.values(),
            ]
            if any(s.get_secret_value() in SANDBOX_SECRETS for s in secrets):
                raise ValueError("production settings still carry the sandbox credentials")
            if any(
                url.startswith(SANDBOX_BASE)
                for url in (self.kuaidi100_url, self.taobao_url, self.sms_url, self.robot_url)
            ):
                raise ValueError("production settings still point at the local sandbox")
        return self

    def secret_values(self) -> list[str]:
        """Return every secret, so log redaction can hide them."""
        secrets = [
            self.kuaidi100_key,
            self.kuaidi100_salt,
            self.taobao_app_secret,
            self.sms_access_key_secret,
            self.robot_access_token,
            self.robot_secret,
            self.sms_uplink_secret,
            self.pinduoduo_client_secret,
            *self.taobao_sessions.values(),
            *self.pinduoduo_tokens.values(),
        ]
        return [s.get_secret_value() for s in secrets if s.get_secret_value()]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, read once from the environment."""
    return Settings()
