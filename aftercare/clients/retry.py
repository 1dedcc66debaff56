"""The one retry policy: which failures are retried, how long to wait, and the tenacity loop."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

import tenacity

from aftercare.clients.errors import ProviderError, TransientError
from aftercare.settings import RetrySettings

T = TypeVar("T")
log = logging.getLogger("aftercare.clients")


def should_retry(error: BaseException, *, idempotent: bool) -> bool:
    """Decide whether a failed call is worth repeating at once."""
    if not isinstance(error, TransientError):
        return False
    # A call that may already have taken effect is only repeated if repeating is harmless.
    return idempotent or not error.maybe_processed


def backoff_seconds(
    attempt: int,
    *,
    policy: RetrySettings,
    retry_after: float | None = None,
    jitter: Callable[[], float] = random.random,
) -> float:
    """Return the wait before the next attempt: Retry-After if given, else capped exponential."""
    if retry_after is not None:
        return min(max(retry_after, 0.0), policy.retry_after_cap_seconds)
    ceiling = min(policy.backoff_cap_seconds, policy.backoff_base_seconds * 2 ** (attempt - 1))
    # "Equal jitter": never less than half the ceiling, so bursts spread without stalling.
    return ceiling / 2 + jitter() * ceiling / 2


def call_with_retry(
    attempt: Callable[[], T],
    *,
    policy: RetrySettings,
    idempotent: bool,
    what: str,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run attempt() under the retry policy; the last error is re-raised unchanged."""

    def wait(state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        retry_after = error.retry_after if isinstance(error, TransientError) else None
        return backoff_seconds(state.attempt_number, policy=policy, retry_after=retry_after)

    def before_sleep(state: tenacity.RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        shown = str(error) if isinstance(error, ProviderError) else type(error).__name__
        log.info(
            "%s failed (%s), attempt %d of %d, retrying in %.2fs",
            what,
            shown,
            state.attempt_number,
            policy.max_attempts,
            state.upcoming_sleep,
        )

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(policy.max_attempts),
        retry=tenacity.retry_if_exception(lambda e: should_retry(e, idempotent=idempotent)),
        wait=wait,
        sleep=sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
    return retrying(attempt)
