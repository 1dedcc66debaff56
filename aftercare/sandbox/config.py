"""Sandbox and fault configuration, constructible from plain dicts and JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any

PROVIDERS = ("kuaidi100", "taobao", "sms")
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

    def __post_init__(self) -> None:
        for name in (
            "error_rate",
            "busy_rate",
            "platform_error_rate",
            "timeout_rate",
            "drop_rate",
            "malformed_rate",
            "process_then_fail_rate",
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


def faults_from_dict(data: dict[str, Any]) -> dict[str, FaultConfig]:
    """Parse `{"kuaidi100": {...}, "*": {...}}` into per-provider fault configurations."""
    result: dict[str, FaultConfig] = {}
    for provider, settings in data.items():
        if provider != ALL_PROVIDERS and provider not in PROVIDERS:
            raise ValueError(f"unknown provider {provider!r}; expected one of {PROVIDERS} or '*'")
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

    def __post_init__(self) -> None:
        if self.anchor is not None and self.anchor.utcoffset() is None:
            raise ValueError("anchor must be a timezone-aware datetime")
        if self.orders_per_shop < 0:
            raise ValueError("orders_per_shop must not be negative")
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
