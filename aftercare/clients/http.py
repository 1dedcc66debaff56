"""The HTTP core every provider client shares: one session, explicit timeouts, one retry policy."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any, Protocol, TypeVar

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NewConnectionError

from aftercare.clients.errors import MalformedResponse, ProviderUnavailable, RateLimited
from aftercare.clients.retry import call_with_retry
from aftercare.settings import RetrySettings

T = TypeVar("T")


class Limiter(Protocol):
    """Anything that blocks until the next call to a provider account is allowed."""

    def acquire(self) -> None:
        """Wait for a slot."""


class RateLimiter:
    """Token bucket shared by the threads of one process, pacing calls to a provider account."""

    def __init__(self, per_second: float, *, burst: int = 1) -> None:
        # A small burst lets the pace catch up after a pause without exceeding the rate over
        # any second (providers count per second).
        self.interval = 1.0 / per_second
        self.burst = burst
        self._next = time.monotonic()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Block until the next call is allowed."""
        with self._lock:
            now = time.monotonic()
            # Allow up to `burst` calls back to back after an idle period, no more.
            start = max(self._next, now - self.interval * (self.burst - 1))
            self._next = start + self.interval
            delay = start - now
        if delay > 0:
            time.sleep(delay)


def parse_retry_after(value: str | None) -> float | None:
    """Read a Retry-After header given in seconds or as an HTTP date."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return None


class HttpCore:
    """Send form requests to one provider and turn transport failures into typed errors."""

    def __init__(
        self,
        provider: str,
        *,
        retry: RetrySettings,
        session: requests.Session | None = None,
        per_second: float | None = None,
        limiter: Limiter | None = None,
        proxy: str | None = None,
    ) -> None:
        self.provider = provider
        self.retry = retry
        self.session = session or requests.Session()
        # Enough kept-alive connections for every thread calling this provider at once.
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=64)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        # Reading proxy variables from the environment on every call costs about a millisecond;
        # a proxy, if one is needed, is configured once (AFTERCARE_HTTP_PROXY).
        self.session.trust_env = False
        if proxy:
            self.session.proxies = {"http": proxy, "https": proxy}
        self.timeout = (retry.connect_timeout_seconds, retry.read_timeout_seconds)
        # A shared limiter (e.g. a Prefect global rate limit across workers) wins over the
        # in-process one.
        self.limiter: Limiter | None = limiter or (
            RateLimiter(per_second, burst=max(1, int(per_second // 20))) if per_second else None
        )

    def call(
        self,
        url: str | Callable[[], str],
        *,
        decode: Callable[[requests.Response], T],
        idempotent: bool,
        what: str,
        form: Callable[[], Mapping[str, str]] | None = None,
        json_payload: bytes | None = None,
    ) -> T:
        """POST a form (or a JSON payload) to url and decode the answer, retrying what is transient.

        form() and a callable url are evaluated for every attempt, so signatures, nonces and
        timestamps are fresh.
        """

        def attempt() -> T:
            if self.limiter:
                self.limiter.acquire()
            target = url() if callable(url) else url
            return decode(self._post(target, what, form() if form else None, json_payload))

        return call_with_retry(attempt, policy=self.retry, idempotent=idempotent, what=what)

    def _post(
        self, url: str, what: str, data: Mapping[str, str] | None, payload: bytes | None
    ) -> requests.Response:
        # Exceptions from requests embed the URL and may embed the body: never pass them on.
        headers = {"Content-Type": "application/json; charset=utf-8"} if payload else None
        try:
            response = self.session.post(
                url,
                data=dict(data) if data is not None else payload,
                headers=headers,
                timeout=self.timeout,
            )
        except requests.ConnectTimeout:
            raise ProviderUnavailable(f"{what}: connect timeout", provider=self.provider) from None
        except requests.ReadTimeout:
            raise ProviderUnavailable(
                f"{what}: read timeout", provider=self.provider, maybe_processed=True
            ) from None
        except requests.ConnectionError as error:
            refused = _never_reached_server(error)
            raise ProviderUnavailable(
                f"{what}: connection {'refused' if refused else 'dropped'}",
                provider=self.provider,
                maybe_processed=not refused,
            ) from None
        except requests.RequestException as error:
            raise ProviderUnavailable(
                f"{what}: {type(error).__name__}", provider=self.provider, maybe_processed=True
            ) from None
        if response.status_code == 429:
            raise RateLimited(
                f"{what}: too many requests",
                provider=self.provider,
                status=429,
                body=response.text,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        if response.status_code >= 500:
            raise ProviderUnavailable(
                f"{what}: server error",
                provider=self.provider,
                status=response.status_code,
                body=response.text,
                maybe_processed=True,
            )
        return response


def json_body(response: requests.Response, provider: str, what: str) -> Any:
    """Decode a JSON answer, or raise MalformedResponse with a (masked) excerpt of the body."""
    try:
        return response.json()
    except (ValueError, RecursionError):  # RecursionError: nested deeper than json can follow
        raise MalformedResponse(
            f"{what}: answer is not JSON",
            provider=provider,
            status=response.status_code,
            body=response.text,
        ) from None


def _never_reached_server(error: requests.ConnectionError) -> bool:
    """Tell a refused connection (nothing sent) from one dropped after sending."""
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(reason, NewConnectionError)
