"""Fault injection: decide, per request and reproducibly, what goes wrong."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from enum import StrEnum

from .config import ALL_PROVIDERS, FAULT_PROVIDERS, PROVIDERS, FaultConfig


class Fault(StrEnum):
    """Kinds of injected faults, as counted in the stats."""

    ERROR = "error"
    BUSY = "busy"
    PLATFORM_ERROR = "platform_error"
    BURST = "burst"
    TIMEOUT = "timeout"
    DROP = "drop"
    MALFORMED = "malformed"
    RATE_LIMITED = "rate_limited"
    PROCESS_THEN_FAIL = "process_then_fail"


# Order of the rate-based draws: one uniform number is compared against the running sum.
_RATED: tuple[tuple[Fault, str], ...] = (
    (Fault.ERROR, "error_rate"),
    (Fault.BUSY, "busy_rate"),
    (Fault.PLATFORM_ERROR, "platform_error_rate"),
    (Fault.TIMEOUT, "timeout_rate"),
    (Fault.DROP, "drop_rate"),
    (Fault.MALFORMED, "malformed_rate"),
    (Fault.PROCESS_THEN_FAIL, "process_then_fail_rate"),
)


@dataclass(frozen=True)
class Decision:
    """The fault (if any) chosen for one request, with the settings that produced it."""

    fault: Fault | None
    config: FaultConfig
    # A second uniform draw for choices inside a fault (which 5xx, drop or time out ...).
    detail: float = 0.0


class _Bucket:
    """Token bucket for the max_rps ceiling, on the real monotonic clock."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.tokens = rate
        self.stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.rate, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class FaultInjector:
    """Per-provider fault settings, changeable at runtime; draws come from a seeded RNG."""

    def __init__(self, seed: int = 0, initial: dict[str, FaultConfig] | None = None) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(f"faults-{seed}")
        self._configs: dict[str, FaultConfig] = {}
        self._counters: dict[str, int] = {}
        self._buckets: dict[str, _Bucket] = {}
        for provider, config in (initial or {}).items():
            self.set(provider, config)

    def set(self, provider: str, config: FaultConfig) -> None:
        """Apply `config` to one provider, or to all with "*"; restarts burst counting.

        "*" means the four providers answering requests; faults on Kuaidi100's outgoing
        pushes are set by naming "kuaidi100_push".
        """
        targets = PROVIDERS if provider == ALL_PROVIDERS else (provider,)
        for target in targets:
            if target not in FAULT_PROVIDERS:
                raise ValueError(f"unknown provider {target!r}; expected one of {FAULT_PROVIDERS}")
        with self._lock:
            for target in targets:
                self._configs[target] = config
                self._counters[target] = 0
                if config.max_rps:
                    self._buckets[target] = _Bucket(config.max_rps)
                else:
                    self._buckets.pop(target, None)

    def get(self, provider: str) -> FaultConfig:
        """Return the settings in force for a provider."""
        with self._lock:
            return self._configs.get(provider, FaultConfig())

    def clear(self, provider: str | None = None) -> None:
        """Switch faults off for one provider, or for all (pushes included)."""
        with self._lock:
            targets = FAULT_PROVIDERS if provider in (None, ALL_PROVIDERS) else (provider,)
            for target in targets:
                self._configs.pop(target, None)
                self._counters.pop(target, None)
                self._buckets.pop(target, None)

    def snapshot(self) -> dict[str, dict[str, object]]:
        """Return the settings of every provider as plain dicts."""
        with self._lock:
            return {p: self._configs.get(p, FaultConfig()).to_dict() for p in FAULT_PROVIDERS}

    def chance(self, provider: str, rate: str) -> bool:
        """Draw whether a side fault (a `*_rate` outside the main draw) happens this time."""
        with self._lock:
            config = self._configs.get(provider)
            chance = getattr(config, rate) if config is not None else 0.0
            return chance > 0 and self._rng.random() < chance

    def draw(self, provider: str) -> Decision:
        """Decide the fault for the next request to `provider`."""
        with self._lock:
            config = self._configs.get(provider)
            if config is None or not config.active:
                return Decision(None, config or FaultConfig())
            bucket = self._buckets.get(provider)
            if bucket is not None and not bucket.take():
                return Decision(Fault.RATE_LIMITED, config)
            count = self._counters.get(provider, 0)
            self._counters[provider] = count + 1
            cycle = config.burst_every + config.burst_length
            # burst_every requests pass, then burst_length get 429, and so on.
            if config.burst_every and config.burst_length and count % cycle >= config.burst_every:
                return Decision(Fault.BURST, config)
            roll = self._rng.random()
            detail = self._rng.random()
            threshold = 0.0
            for fault, name in _RATED:
                threshold += getattr(config, name)
                if roll < threshold:
                    return Decision(fault, config, detail)
            return Decision(None, config, detail)
