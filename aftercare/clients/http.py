"""The HTTP core every provider client shares: one session, explicit timeouts, one retry policy."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import Message
from email.utils import parsedate_to_datetime
from typing import Any, Protocol, TypeVar
from urllib.parse import urlencode

import certifi
import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)

from aftercare import bounded_json
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


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    """A provider's answer: status, headers and the whole body."""

    status_code: int
    headers: Mapping[str, str]  # case-insensitive
    content: bytes

    @property
    def charset(self) -> str | None:
        """The charset the Content-Type header names, if any."""
        message = Message()
        message["content-type"] = self.headers.get("Content-Type", "")
        return message.get_content_charset()

    @property
    def text(self) -> str:
        """The body as text; undecodable bytes become U+FFFD."""
        return self.content.decode(self.charset or "utf-8", errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON (ValueError when it is not)."""
        if self.charset:
            return bounded_json.loads(self.text)
        try:
            return bounded_json.loads(self.content)  # json detects UTF-8, -16 and -32 by itself
        except UnicodeDecodeError:
            return bounded_json.loads(self.content.decode("utf-8", errors="replace"))


class HttpCore:
    """Send form requests to one provider and turn transport failures into typed errors."""

    def __init__(
        self,
        provider: str,
        *,
        retry: RetrySettings,
        per_second: float | None = None,
        limiter: Limiter | None = None,
        proxy: str | None = None,
    ) -> None:
        self.provider = provider
        self.retry = retry
        # urllib3 itself, not requests: preparing a request through requests' Session cost
        # more CPU than the rest of a parcel check. Enough kept-alive connections for every
        # thread calling this provider at once; a proxy only when configured (never read from
        # the environment).
        pool_options: dict[str, Any] = {
            "num_pools": 4,
            "maxsize": 64,
            "ca_certs": certifi.where(),
            "retries": False,  # tenacity retries, with the one policy
        }
        self.pool: urllib3.PoolManager = (
            urllib3.ProxyManager(proxy, **pool_options)
            if proxy
            else urllib3.PoolManager(**pool_options)
        )
        self.timeout = urllib3.Timeout(
            connect=retry.connect_timeout_seconds, read=retry.read_timeout_seconds
        )
        # A shared limiter (e.g. a Prefect global rate limit across workers) wins over the
        # in-process one.
        self.limiter: Limiter | None = limiter or (
            RateLimiter(per_second, burst=max(1, int(per_second // 20))) if per_second else None
        )

    def call(
        self,
        url: str | Callable[[], str],
        *,
        decode: Callable[[HttpAnswer], T],
        idempotent: bool,
        what: str,
        form: Callable[[], Mapping[str, str]] | None = None,
        json_payload: bytes | None = None,
        method: str = "POST",
    ) -> T:
        """POST a form (or a JSON payload) to url and decode the answer, retrying what is transient.

        form() and a callable url are evaluated for every attempt, so signatures, nonces and
        timestamps are fresh.
        """

        def attempt() -> T:
            if self.limiter:
                self.limiter.acquire()
            target = url() if callable(url) else url
            if method == "GET":  # the form goes in the query string
                query = urlencode(form() if form else {})
                return decode(self._post(target + "?" + query, what, None, None, method="GET"))
            return decode(self._post(target, what, form() if form else None, json_payload))

        return call_with_retry(attempt, policy=self.retry, idempotent=idempotent, what=what)

    def _post(
        self,
        url: str,
        what: str,
        data: Mapping[str, str] | None,
        payload: bytes | None,
        method: str = "POST",
    ) -> HttpAnswer:
        # Transport exceptions embed the host and may embed the body: never pass them on.
        body: bytes | None
        if method == "GET":
            body, kind = None, "application/x-www-form-urlencoded"
        elif payload is not None:
            body, kind = payload, "application/json; charset=utf-8"
        else:
            body, kind = urlencode(data or {}).encode(), "application/x-www-form-urlencoded"
        try:
            raw = self.pool.request(
                method,
                url,
                body=body,
                headers={"Content-Type": kind, "User-Agent": "aftercare"},
                timeout=self.timeout,
                redirect=False,
            )
        except NewConnectionError:  # before ConnectTimeoutError: it is a subclass of it
            raise ProviderUnavailable(
                f"{what}: connection refused", provider=self.provider, maybe_processed=False
            ) from None
        except ConnectTimeoutError:
            raise ProviderUnavailable(f"{what}: connect timeout", provider=self.provider) from None
        except ReadTimeoutError:
            raise ProviderUnavailable(
                f"{what}: read timeout", provider=self.provider, maybe_processed=True
            ) from None
        except ProtocolError:
            raise ProviderUnavailable(
                f"{what}: connection dropped", provider=self.provider, maybe_processed=True
            ) from None
        except (HTTPError, OSError) as error:
            raise ProviderUnavailable(
                f"{what}: {type(error).__name__}", provider=self.provider, maybe_processed=True
            ) from None
        response = HttpAnswer(raw.status, raw.headers, raw.data)
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


def json_body(response: HttpAnswer, provider: str, what: str) -> Any:
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
