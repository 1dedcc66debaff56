"""Masking of personal data and secrets wherever text leaves the process (PIPL art. 6)."""

from __future__ import annotations

import logging
import re
import threading

# Chinese mobile numbers, also inside longer text (courier scans carry them): with or without the
# country code (+86, 0086, 86), written in groups (138 1234 5678, 138-1234-5678), in ASCII or
# full-width digits. Digits next to other digits are not a phone (order numbers, waybills).
_MOBILE = re.compile(
    r"(?<!\d)(?P<country>(?:[+＋]|[0０]{2})?[8８][6６][\s-]?)?"
    r"(?P<head>[1１][3-9３-９]\d)[\s-]?\d{4}[\s-]?(?P<tail>\d{4})(?!\d)"
)
_secrets: set[str] = set()
_lock = threading.Lock()


def mask_phone(phone: str | None) -> str:
    """Mask a phone number as 138****5678; anything shorter keeps only its last two digits."""
    if not phone:
        return ""
    digits = phone.strip()
    if len(digits) >= 11:
        return f"{digits[:3]}****{digits[-4:]}"
    return "*" * max(len(digits) - 2, 0) + digits[-2:]


def mask_name(name: str | None) -> str:
    """Mask a personal name as 张*, keeping only the first character."""
    if not name:
        return ""
    return name[0] + "*" * max(len(name) - 1, 1)


def register_secrets(values: list[str]) -> None:
    """Remember secrets so redact() hides them from every log line and error."""
    with _lock:
        _secrets.update(v for v in values if len(v) >= 4)


def redact(text: str) -> str:
    """Hide phone numbers and registered secrets in free text."""
    text = _MOBILE.sub(lambda m: f"{m['country'] or ''}{m['head']}****{m['tail']}", text)
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, "***")
    return text


class _RedactingFactory:
    """Log record factory that redacts every message at creation, whichever library logs."""

    def __init__(self, inner: object) -> None:
        self.inner = inner

    def __call__(self, *args: object, **kwargs: object) -> logging.LogRecord:
        record: logging.LogRecord = self.inner(*args, **kwargs)  # type: ignore[operator]
        try:
            message = record.getMessage()
        except Exception:  # a malformed format string: leave it to logging to report
            return record
        record.msg, record.args = redact(message), None
        return record


def install_log_redaction(secrets: list[str]) -> None:
    """Redact phone numbers and the given secrets in all log records of this process."""
    register_secrets(secrets)
    factory = logging.getLogRecordFactory()
    if not isinstance(factory, _RedactingFactory):
        logging.setLogRecordFactory(_RedactingFactory(factory))
