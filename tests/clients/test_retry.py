"""The one retry policy: the decision for every kind of failure, and the back-off."""

import pytest

from aftercare.clients.errors import (
    AuthenticationError,
    MalformedResponse,
    ProviderUnavailable,
    RateLimited,
    RequestRejected,
)
from aftercare.clients.http import parse_retry_after
from aftercare.clients.retry import backoff_seconds, call_with_retry, should_retry
from aftercare.clients.sms import error_from_answer
from aftercare.clients.taobao import error_from_response
from aftercare.settings import RetrySettings

P = "test"


@pytest.mark.parametrize(
    ("error", "idempotent", "retried"),
    [
        (ProviderUnavailable("connect", provider=P), True, True),
        (ProviderUnavailable("connect refused", provider=P), False, True),
        (ProviderUnavailable("read timeout", provider=P, maybe_processed=True), True, True),
        (ProviderUnavailable("read timeout", provider=P, maybe_processed=True), False, False),
        (ProviderUnavailable("502", provider=P, status=502, maybe_processed=True), False, False),
        (RateLimited("429", provider=P, status=429, retry_after=1), True, True),
        (RateLimited("429", provider=P, status=429, retry_after=1), False, True),
        (AuthenticationError("bad sign", provider=P, status=400), True, False),
        (RequestRejected("400", provider=P, status=400), True, False),
        (RequestRejected("404", provider=P, status=404), True, False),
        (MalformedResponse("junk", provider=P), True, False),
        (ValueError("our own bug"), True, False),
    ],
)
def test_retry_decision_table(error, idempotent, retried):
    assert should_retry(error, idempotent=idempotent) is retried


@pytest.mark.parametrize(
    ("body", "kind", "retry_after"),
    [
        (
            {
                "code": 7,
                "msg": "App Call Limited",
                "sub_msg": "This ban will last for 3 more seconds",
            },
            RateLimited,
            3.0,
        ),
        ({"code": 9, "msg": "Service Currently Unavailable"}, ProviderUnavailable, None),
        (
            {"code": 15, "msg": "Remote service error", "sub_code": "isp.remote-service-timeout"},
            ProviderUnavailable,
            None,
        ),
        (
            {"code": 15, "msg": "Remote service error", "sub_code": "isv.trade-not-exist"},
            RequestRejected,
            None,
        ),
        ({"code": 25, "msg": "Invalid signature"}, AuthenticationError, None),
        ({"code": 27, "msg": "Invalid session"}, AuthenticationError, None),
        ({"code": 31, "msg": "Invalid timestamp"}, AuthenticationError, None),
        (
            {"code": 41, "msg": "Invalid arguments", "sub_code": "isv.invalid-parameter"},
            RequestRejected,
            None,
        ),
    ],
)
def test_top_error_codes(body, kind, retry_after):
    error = error_from_response({**body, "request_id": "r1"})
    assert type(error) is kind or isinstance(error, kind)
    assert error.request_id == "r1"
    if retry_after is not None:
        assert error.retry_after == retry_after


@pytest.mark.parametrize(
    ("code", "status", "kind", "retried_for_send"),
    [
        ("isv.BUSINESS_LIMIT_CONTROL", 200, RateLimited, True),
        ("Throttling.User", 400, RateLimited, True),
        ("isp.SYSTEM_ERROR", 200, ProviderUnavailable, False),
        ("SignatureDoesNotMatch", 400, AuthenticationError, False),
        ("InvalidAccessKeyId.NotFound", 404, AuthenticationError, False),
        ("isv.MOBILE_NUMBER_ILLEGAL", 200, RequestRejected, False),
        ("isv.SMS_TEMPLATE_ILLEGAL", 200, RequestRejected, False),
    ],
)
def test_sms_error_codes(code, status, kind, retried_for_send):
    error = error_from_answer({"Code": code, "Message": "m", "RequestId": "r"}, status)
    assert isinstance(error, kind)
    assert should_retry(error, idempotent=False) is retried_for_send


def test_backoff_grows_is_capped_and_honours_retry_after():
    policy = RetrySettings(
        backoff_base_seconds=1, backoff_cap_seconds=10, retry_after_cap_seconds=20
    )
    lows = [backoff_seconds(n, policy=policy, jitter=lambda: 0.0) for n in range(1, 7)]
    highs = [backoff_seconds(n, policy=policy, jitter=lambda: 1.0) for n in range(1, 7)]
    assert lows == [0.5, 1, 2, 4, 5, 5]
    assert highs == [1, 2, 4, 8, 10, 10]
    assert backoff_seconds(1, policy=policy, retry_after=7) == 7
    assert backoff_seconds(1, policy=policy, retry_after=600) == 20


def test_retry_after_header_in_seconds_or_as_a_date():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


def test_call_with_retry_repeats_transient_then_gives_up_with_the_last_error():
    calls, sleeps = [], []

    def flaky():
        calls.append(1)
        raise ProviderUnavailable("down", provider=P, status=503)

    policy = RetrySettings(max_attempts=4, backoff_base_seconds=0.1)
    with pytest.raises(ProviderUnavailable):
        call_with_retry(flaky, policy=policy, idempotent=True, what="t", sleep=sleeps.append)
    assert len(calls) == 4 and len(sleeps) == 3


def test_call_with_retry_never_repeats_a_permanent_error():
    calls = []

    def rejected():
        calls.append(1)
        raise RequestRejected("no", provider=P, status=400)

    with pytest.raises(RequestRejected):
        call_with_retry(
            rejected, policy=RetrySettings(), idempotent=True, what="t", sleep=lambda s: None
        )
    assert calls == [1]
