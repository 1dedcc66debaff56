"""Kuaidi100 answers and pushes: a valid record or a typed error, whatever the provider sends."""

from __future__ import annotations

import hashlib
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from aftercare.clients.errors import MalformedResponse, ProviderError
from aftercare.clients.kuaidi100 import (
    PushNotice,
    TrackingResult,
    parse_push,
    parse_query_response,
    parse_subscribe_answer,
    verify_push,
)
from aftercare.privacy import _MOBILE

from .strategies import (
    hostile_text,
    is_opt_text,
    is_text,
    is_utc,
    json_values,
    kuaidi_answers,
    kuaidi_bodies,
    push_texts,
)

SETTINGS = settings(max_examples=200, deadline=None)


def assert_valid_result(result: TrackingResult, courier: str, waybill: str) -> None:
    assert isinstance(result, TrackingResult)
    assert result.courier == courier and result.waybill == waybill
    assert is_text(result.courier) and is_text(result.waybill)
    assert result.state is None or (type(result.state) is int and result.state >= 0)
    assert type(result.signed) is bool
    assert isinstance(result.events, tuple)
    for event in result.events:
        assert is_utc(event.occurred_at)
        assert is_text(event.context) and is_text(event.status_text)
        assert is_opt_text(event.area_code) and is_opt_text(event.area_name)
        assert is_opt_text(event.status_code)
    moments = [e.occurred_at for e in result.events]
    assert moments == sorted(moments), "events oldest first"


def assert_typed_error(error: ProviderError) -> None:
    assert error.provider == "kuaidi100"
    # Error texts end up in logs, outbox rows and shipments: bounded and masked.
    assert len(error.message) <= 1000 and not _MOBILE.search(error.message)
    assert is_text(error.message) and is_text(error.body_excerpt) and is_text(error.reason)
    assert error.code is None or (is_text(error.code) and len(error.code) <= 200)


@SETTINGS
@given(body=kuaidi_bodies)
@example(body={"data": [], "state": float("inf")})
@example(body={"data": [], "state": True})
@example(body={"data": [{"time": "0001-01-01 00:00:00", "context": "x"}]})
@example(body={"data": [{"time": "2026-11-20 10:00:00", "context": "x", "areaCode": [1]}]})
def test_query_answer_is_a_valid_result_or_a_typed_error(body: Any) -> None:
    try:
        result = parse_query_response(body, "yuantong", "YT1")
    except ProviderError as error:
        assert_typed_error(error)
        return
    assert_valid_result(result, "yuantong", "YT1")


@SETTINGS
@given(body=kuaidi_answers())
def test_well_formed_answers_keep_every_scan(body: dict[str, Any]) -> None:
    try:
        result = parse_query_response(body, "yuantong", "YT1")
    except MalformedResponse:
        return  # some generated fields are broken on purpose
    assert len(result.events) == len(body["data"])


@SETTINGS
@given(param=push_texts)
@example(param="[" * 100_000)
@example(param='{"status": "polling", "comOld": {"a": 1}}')
@example(param='{"status": {"a": 1}}')
def test_push_is_a_valid_notice_or_malformed(param: str) -> None:
    try:
        notice = parse_push(param)
    except MalformedResponse as error:
        assert_typed_error(error)
        return
    assert isinstance(notice, PushNotice)
    assert is_text(notice.status) and notice.status
    assert is_text(notice.message) and type(notice.auto_check) is bool
    assert is_opt_text(notice.courier_old) and is_opt_text(notice.courier_new)
    if notice.result is not None:
        assert_valid_result(notice.result, notice.result.courier, notice.result.waybill)


def _sign(param: str, salt: str) -> str:
    return hashlib.md5((param + salt).encode()).hexdigest()


@SETTINGS
@given(
    param=hostile_text(surrogates=False, max_repeat=20),
    salt=st.text(max_size=20),
    upper=st.booleans(),
    pad=st.sampled_from(["", " ", "\n"]),
)
def test_a_correct_push_signature_is_accepted_in_either_case(
    param: str, salt: str, upper: bool, pad: str
) -> None:
    sign = _sign(param, salt)
    assert verify_push(param, pad + (sign.upper() if upper else sign) + pad, salt) is True
    assert verify_push(param + "x", sign, salt) is False
    assert verify_push(param, sign, salt + "x") is False


@SETTINGS
@given(param=hostile_text(max_repeat=20), sign=hostile_text(max_repeat=2), salt=st.text())
@example(param="\ud800", sign="0" * 32, salt="s")
@example(param="p", sign="\udfff", salt="s")
def test_push_verification_never_raises(param: str, sign: str, salt: str) -> None:
    assert verify_push(param, sign, salt) in (True, False)


@SETTINGS
@given(body=st.one_of(json_values, st.fixed_dictionaries({"returnCode": json_values})))
def test_subscription_answer_is_a_bool_or_a_typed_error(body: Any) -> None:
    try:
        answer = parse_subscribe_answer(body)
    except ProviderError as error:
        assert_typed_error(error)
        return
    assert answer in (True, False)
