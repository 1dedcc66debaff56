"""Counters of what the sandbox saw and did, for tests and benchmarks."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class SandboxStats:
    """Thread-safe counters; read attributes directly or take a `snapshot()`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Zero every counter."""
        with self._lock:
            self.requests: Counter[str] = Counter()
            self.faults: Counter[str] = Counter()
            self.faults_by_provider: dict[str, Counter[str]] = {}
            self.kuaidi100_queries: Counter[str] = Counter()
            self.rejected_signatures: Counter[str] = Counter()
            self.kuaidi100_locks = 0
            self.rate_limited: Counter[str] = Counter()
            self.sms_accepted = 0
            self.robot_messages = 0
            # Kuaidi100 subscription pushes: made per status (polling/shutdown/abort), HTTP
            # attempts, outcomes, broken bodies sent, and pushes posted by push_burst.
            self.kuaidi100_pushes: Counter[str] = Counter()
            self.kuaidi100_push_attempts = 0
            self.kuaidi100_pushes_delivered = 0
            self.kuaidi100_pushes_given_up = 0
            self.kuaidi100_pushes_malformed = 0
            self.kuaidi100_burst_pushes = 0

    def count_request(self, provider: str) -> None:
        """Count one request to a provider endpoint."""
        with self._lock:
            self.requests[provider] += 1

    def count_fault(self, provider: str, kind: str) -> None:
        """Count one injected fault of `kind`."""
        with self._lock:
            self.faults[kind] += 1
            self.faults_by_provider.setdefault(provider, Counter())[kind] += 1

    def count_query(self, waybill: str) -> None:
        """Count one authenticated Kuaidi100 real-time query of a waybill."""
        with self._lock:
            self.kuaidi100_queries[waybill] += 1

    def count_rejected_signature(self, provider: str) -> None:
        """Count one call refused for a bad signature."""
        with self._lock:
            self.rejected_signatures[provider] += 1

    def count_lock(self) -> None:
        """Count one Kuaidi100 answer 'queried too often, locked'."""
        with self._lock:
            self.kuaidi100_locks += 1

    def count_rate_limited(self, provider: str) -> None:
        """Count one request refused by the per-provider max_rps ceiling."""
        with self._lock:
            self.rate_limited[provider] += 1

    def count_sms(self, n: int = 1) -> None:
        """Count accepted SMS."""
        with self._lock:
            self.sms_accepted += n

    def count_robot_message(self) -> None:
        """Count one accepted group-robot message."""
        with self._lock:
            self.robot_messages += 1

    def count_push(self, status: str, *, malformed: bool = False) -> None:
        """Count one Kuaidi100 push made (its retries are attempts, not pushes)."""
        with self._lock:
            self.kuaidi100_pushes[status] += 1
            self.kuaidi100_pushes_malformed += malformed

    def count_push_attempt(self) -> None:
        """Count one attempt at posting a Kuaidi100 push (sent or not)."""
        with self._lock:
            self.kuaidi100_push_attempts += 1

    def count_push_outcome(self, *, delivered: bool) -> None:
        """Count one Kuaidi100 push acknowledged, or given up after its last retry."""
        with self._lock:
            if delivered:
                self.kuaidi100_pushes_delivered += 1
            else:
                self.kuaidi100_pushes_given_up += 1

    def count_burst_pushes(self, n: int) -> None:
        """Count pushes posted by a benchmark burst."""
        with self._lock:
            self.kuaidi100_burst_pushes += n

    def snapshot(self) -> dict[str, Any]:
        """Return a JSON-ready copy of every counter."""
        with self._lock:
            return {
                "requests": dict(self.requests),
                "faults": dict(self.faults),
                "faults_by_provider": {p: dict(c) for p, c in self.faults_by_provider.items()},
                "kuaidi100_queries": dict(self.kuaidi100_queries),
                "rejected_signatures": dict(self.rejected_signatures),
                "kuaidi100_locks": self.kuaidi100_locks,
                "rate_limited": dict(self.rate_limited),
                "sms_accepted": self.sms_accepted,
                "robot_messages": self.robot_messages,
                "kuaidi100_pushes": dict(self.kuaidi100_pushes),
                "kuaidi100_push_attempts": self.kuaidi100_push_attempts,
                "kuaidi100_pushes_delivered": self.kuaidi100_pushes_delivered,
                "kuaidi100_pushes_given_up": self.kuaidi100_pushes_given_up,
                "kuaidi100_pushes_malformed": self.kuaidi100_pushes_malformed,
                "kuaidi100_burst_pushes": self.kuaidi100_burst_pushes,
            }
