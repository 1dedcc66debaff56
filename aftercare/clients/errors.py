"""One error hierarchy for every provider: what failed, how, and whether trying again can help."""

from __future__ import annotations

from aftercare.clients.fields import storable
from aftercare.privacy import redact

_EXCERPT_CHARS = 300
# Messages quote what could not be read; a huge payload must not become a huge log line or row.
_MESSAGE_CHARS = 1000
_CODE_CHARS = 200


class ProviderError(Exception):
    """A provider call failed; carries provider, status, provider code, body excerpt, request id."""

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status: int | None = None,
        code: str | None = None,
        body: str | None = None,
        request_id: str | None = None,
    ) -> None:
        self.message = storable(redact(message[:_MESSAGE_CHARS]))
        self.provider = provider
        self.status = status
        self.code = storable(code[:_CODE_CHARS]) if code else code
        self.body_excerpt = storable(redact(body[:_EXCERPT_CHARS])) if body else ""
        self.request_id = storable(request_id[:_CODE_CHARS]) if request_id else request_id
        super().__init__(self.message)

    def __str__(self) -> str:
        parts = [f"{self.provider}: {self.message}"]
        if self.status is not None:
            parts.append(f"status={self.status}")
        if self.code:
            parts.append(f"code={self.code}")
        if self.request_id:
            parts.append(f"request_id={self.request_id}")
        return " ".join(parts)

    @property
    def reason(self) -> str:
        """Return a short, masked reason fit for an outbox row or a shipment's error column."""
        return str(self)[:500]


class TransientError(ProviderError):
    """Trying again may succeed: connection failures, timeouts, 429, 5xx, "try later" codes."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        maybe_processed: bool = False,
        **kwargs: object,
    ) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after
        # True when the provider may have acted before the failure (read timeout, dropped
        # answer, 5xx): repeating a non-idempotent call could then do the work twice.
        self.maybe_processed = maybe_processed


class ProviderUnavailable(TransientError):
    """The provider could not be reached or answered with a server error."""


class RateLimited(TransientError):
    """The provider asked us to slow down (HTTP 429 or its own throttling code)."""


class PermanentError(ProviderError):
    """Repeating the same request will fail the same way."""


class AuthenticationError(PermanentError):
    """Credentials, signature, session or timestamp were refused: a configuration problem.

    `fix` names what to correct (the setting, or the machine's clock), so the person reading
    the failure knows where to look; retrying cannot help.
    """

    def __init__(self, message: str, *, fix: str = "", **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.fix = fix

    def __str__(self) -> str:
        said = super().__str__()
        return f"{said}; check {self.fix}" if self.fix else said


class RequestRejected(PermanentError):
    """The provider refused this particular request (bad data, unknown item, policy)."""


class MalformedResponse(PermanentError):
    """The provider answered with something we cannot read."""
