"""Sandbox and fault configuration, constructible from plain dicts and JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any

PROVIDERS = ("kuaidi100", "taobao", "sms", "dingtalk")
# Faults on what the sandbox sends out: Kuaidi100's subscription pushes (kuaidi100_push.py).
# Named explicitly only; "*" keeps meaning the four providers answering requests.
PUSH_PROVIDERS = ("kuaidi100_push",)
# The second platform's gateway, also named explicitly only (the Taobao world's faults stay).
SECOND_PLATFORMS = ("pinduoduo",)
FAULT_PROVIDERS = PROVIDERS + PUSH_PROVIDERS + SECOND_PLATFORMS
ALL_PROVIDERS = "*"


@dataclass(frozen=True)
class FaultConfig:
    """Faults injected into one provider's answers; everything defaults to off."""

    latency_ms: float = 0.0
    error_rate: float = 0.0
    busy_rate: float = 0.0
    # Not in the brief's list: TOP code 15 isp.* / code 9, SMS isp.SYSTEM_ERROR, Kuaidi100 502.
    platform_error_rate: float = 0.0
    burst_every: int = 0
    burst_length: int = 0
    retry_after: int = 1
    timeout_rate: float = 0.0
    timeout_seconds: float = 5.0
    drop_rate: float = 0.0
    malformed_rate: float = 0.0
    max_rps: float | None = None
    process_then_fail_rate: float = 0.0
    # Kuaidi100 pushes only: after a push is acknowledged, the waybill's previous push comes
    # again (a late retry), so an older history arrives after a newer one.
    stale_rate: float = 0.0

    def __post_init__(self) -> None:
        for name in (
            "error_rate",
            "busy_rate",
            "platform_error_rate",
            "timeout_rate",
            "drop_rate",
            "malformed_rate",
            "process_then_fail_rate",
            "stale_rate",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], got {value!r}")
        if self.latency_ms < 0 or self.timeout_seconds < 0:
            raise ValueError("latency_ms and timeout_seconds must not be negative")
        if self.burst_every < 0 or self.burst_length < 0 or self.retry_after < 0:
            raise ValueError("burst_every, burst_length and retry_after must not be negative")
        if self.max_rps is not None and self.max_rps <= 0:
            raise ValueError("max_rps must be positive (or None for no ceiling)")

    @property
    def active(self) -> bool:
        """Tell whether this configuration injects anything at all."""
        return self != FaultConfig()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultConfig:
        """Build from a plain dict, refusing unknown keys so typos do not pass silently."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as a plain dict."""
        return asdict(self)


STAGES = ("unpaid", "closed", "paid", "shipped")
RATING_RESULTS = ("good", "neutral", "bad")


def check_weights(name: str, weights: dict[str, float], known: tuple[str, ...]) -> None:
    """Refuse a weight table with unknown keys, negative weights or nothing to draw."""
    unknown = set(weights) - set(known)
    if unknown:
        raise ValueError(f"unknown {name} keys {sorted(unknown)}; expected some of {known}")
    if any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
        raise ValueError(f"{name} must not be negative and must not all be zero")


def faults_from_dict(data: dict[str, Any]) -> dict[str, FaultConfig]:
    """Parse `{"kuaidi100": {...}, "*": {...}}` into per-provider fault configurations."""
    result: dict[str, FaultConfig] = {}
    for provider, settings in data.items():
        if provider != ALL_PROVIDERS and provider not in FAULT_PROVIDERS:
            raise ValueError(
                f"unknown provider {provider!r}; expected one of {FAULT_PROVIDERS} or '*'"
            )
        config = settings if isinstance(settings, FaultConfig) else FaultConfig.from_dict(settings)
        targets = PROVIDERS if provider == ALL_PROVIDERS else (provider,)
        for target in targets:
            result[target] = config
    return result


@dataclass
class SandboxConfig:
    """Everything that shapes a sandbox: the seeded world, its rules and its faults."""

    seed: int = 7
    orders_per_shop: int = 150
    # Orders of the Pinduoduo shop (paid and shipped only, as its order list shows); none by
    # default, so the three Taobao shops' world is the same with or without it.
    pinduoduo_orders_per_shop: int = 0
    # Share of paid Taobao orders whose buyer asks for a refund (refunds.py); none by default.
    refund_rate: float = 0.0
    anchor: datetime | None = None
    host: str = "127.0.0.1"
    port: int = 0
    kuaidi100_lock_minutes: float = 30.0
    sms_per_phone_per_minute: int | None = None
    top_timestamp_skew_minutes: float = 10.0
    sms_timestamp_skew_minutes: float = 15.0
    # False keeps the business clock still at the anchor until set/advanced (handy in tests).
    clock_tick: bool = True
    faults: dict[str, FaultConfig] = field(default_factory=dict)
    # Share of trades per stage at the anchor: unpaid, closed, paid, shipped (None: 10/3/5/82).
    stage_weights: dict[str, float] | None = None
    # Chance that one unpaid-order reminder SMS makes the buyer pay (5-600 minutes later).
    reminder_conversion_rate: float = 0.35
    # Mix of rating results: good, neutral, bad (None: 85/10/5).
    rating_weights: dict[str, float] | None = None
    # SMS templates file (None: aftercare/templates/sms.toml); re-read for unknown codes.
    sms_templates_path: str | None = None
    # DingTalk robot: messages per robot per simulated minute (None: no limit) and the
    # largest timestamp skew against the real clock.
    robot_per_minute: int | None = 20
    robot_timestamp_skew_minutes: float = 60.0
    # Buyers' SMS replies (上行短信) are pushed here, signed with the secret (see uplink.py);
    # None keeps them queued (set one later with Sandbox.set_uplink_url).
    sms_uplink_url: str | None = None
    sms_uplink_secret: str = "sandbox-uplink-secret"
    # Chance that one marketing SMS draws an opt-out reply ("TD", "退订" ...) 1-30 minutes later.
    opt_out_reply_rate: float = 0.05
    # Kuaidi100 subscription pushes (kuaidi100_push.py): how long to wait for the callback's
    # answer (the real service waits 20 s), the pauses before each retry (real seconds), and
    # how many pushes may be under way at once.
    kuaidi100_push_timeout: float = 5.0
    kuaidi100_push_backoff: tuple[float, ...] = (0.2, 0.5, 1.0)
    kuaidi100_push_workers: int = 4
    # The message channel (TMC): how long an unconfirmed message waits before it is handed out
    # again (simulated seconds), and how often a batch repeats a message or comes shuffled.
    tmc_redeliver_seconds: float = 60.0
    tmc_duplicate_rate: float = 0.0
    tmc_shuffle: bool = False
    # Chance that the WebSocket channel drops the connection before each message it sends.
    tmc_stream_drop_rate: float = 0.0
    # OAIDs a shop may decrypt per day (taobao.top.oaid.decrypt), and the share answered with a
    # virtual number (with an extension: no SMS reaches it).
    oaid_decrypt_daily_quota: int = 5000
    oaid_virtual_rate: float = 0.0

    def __post_init__(self) -> None:
        if self.anchor is not None and self.anchor.utcoffset() is None:
            raise ValueError("anchor must be a timezone-aware datetime")
        if self.orders_per_shop < 0:
            raise ValueError("orders_per_shop must not be negative")
        if self.stage_weights is not None:
            check_weights("stage_weights", self.stage_weights, STAGES)
        if self.rating_weights is not None:
            check_weights("rating_weights", self.rating_weights, RATING_RESULTS)
        if not 0.0 <= self.reminder_conversion_rate <= 1.0:
            raise ValueError("reminder_conversion_rate must be within [0, 1]")
        if not 0.0 <= self.opt_out_reply_rate <= 1.0:
            raise ValueError("opt_out_reply_rate must be within [0, 1]")
        if not self.sms_uplink_secret:
            raise ValueError("sms_uplink_secret must not be empty")
        if self.robot_per_minute is not None and self.robot_per_minute < 1:
            raise ValueError("robot_per_minute must be positive (or None for no limit)")
        if self.kuaidi100_push_timeout <= 0:
            raise ValueError("kuaidi100_push_timeout must be positive")
        self.kuaidi100_push_backoff = tuple(float(s) for s in self.kuaidi100_push_backoff)
        if any(s < 0 for s in self.kuaidi100_push_backoff):
            raise ValueError("kuaidi100_push_backoff must not hold negative pauses")
        if self.kuaidi100_push_workers < 1:
            raise ValueError("kuaidi100_push_workers must be at least 1")
        # Normalise "*" and raw dicts so callers may pass either.
        self.faults = faults_from_dict(dict(self.faults))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SandboxConfig:
        """Build from a plain dict (anchor as ISO 8601 string, faults as nested dicts)."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown sandbox settings: {sorted(unknown)}")
        values = dict(data)
        anchor = values.get("anchor")
        if isinstance(anchor, str):
            values["anchor"] = datetime.fromisoformat(anchor.replace("Z", "+00:00"))
        if "faults" in values:
            values["faults"] = faults_from_dict(values["faults"] or {})
        return cls(**values)

    @classmethod
    def from_json(cls, text: str) -> SandboxConfig:
        """Build from a JSON object string."""
        return cls.from_dict(json.loads(text))

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as JSON-ready plain data."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["anchor"] = self.anchor.isoformat() if self.anchor else None
        data["faults"] = {name: cfg.to_dict() for name, cfg in self.faults.items()}
        return data
