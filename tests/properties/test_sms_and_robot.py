"""SMS and robot answers: a decoded value or a typed error, never anything else."""

from __future__ import annotations

import json
from typing import Any

import requests
from hypothesis import example, given, settings
from hypothesis import strategies as st

from aftercare.clients.errors import ProviderError, TransientError
from aftercare.clients.http import json_body
from aftercare.clients.robot import check_answer
from aftercare.clients.robot import error_from_answer as robot_error
from aftercare.clients.sms import error_from_answer as sms_error
from aftercare.clients.sms import parse_send_answer, parse_send_details
from aftercare.privacy import _MOBILE

from .strategies import finite_or_none, hostile_text, is_opt_text, is_text, json_values, mutated

SETTINGS = settings(max_examples=200, deadline=None)


def assert_typed_error(error: ProviderError, provider: str) -> None:
    assert isinstance(error, ProviderError) and error.provider == provider
    assert len(error.message) <= 1000 and not _MOBILE.search(error.message)
    assert is_text(error.message) and is_text(error.body_excerpt) and is_text(error.reason)
    assert error.code is None or (is_text(error.code) and len(error.code) <= 200)
    assert error.request_id is None or isinstance(error.request_id, str)
    if isinstance(error, TransientError):
        assert finite_or_none(error.retry_after)


def fake_response(content: bytes, status: int = 200) -> requests.Response:
    response = requests.Response()
    response._content = content
    response.status_code = status
    response.encoding = "utf-8"
    return response


sms_codes = st.one_of(
    st.sampled_from(
        [
            "OK",
            "isv.BUSINESS_LIMIT_CONTROL",
            "Throttling.User",
            "isp.SYSTEM_ERROR",
            "SignatureDoesNotMatch",
            "isv.MOBILE_NUMBER_ILLEGAL",
            "ok",
            "",
        ]
    ),
    json_values,
)
sms_answers = mutated(
    st.fixed_dictionaries(
        {
            "Code": sms_codes,
            "Message": st.one_of(st.just("OK"), hostile_text(max_repeat=20)),
            "RequestId": st.one_of(st.uuids().map(str), json_values),
            "BizId": st.one_of(st.from_regex(r"\A[0-9]{6}\^[0-9]{10}\Z"), json_values),
        }
    )
)
statuses = st.sampled_from([200, 400, 403, 404, 500])


@SETTINGS
@given(
    body=st.one_of(sms_answers, st.dictionaries(st.text(max_size=10), json_values)), status=statuses
)
@example(body={"Code": "isp.X", "RequestId": ["r"]}, status=200)
def test_sms_error_answer_always_maps_to_a_typed_error(body: dict[str, Any], status: int) -> None:
    assert_typed_error(sms_error(body, status), "sms")


@SETTINGS
@given(body=st.one_of(sms_answers, json_values), status=statuses)
@example(body={"Code": "OK", "BizId": {"x": 1}}, status=200)
def test_send_answer_is_a_biz_id_or_a_typed_error(body: Any, status: int) -> None:
    try:
        biz_id = parse_send_answer(body, status)
    except ProviderError as error:
        assert_typed_error(error, "sms")
        # The provider took the message: never report that as a failure (it would be re-sent).
        assert not (isinstance(body, dict) and body.get("Code") == "OK")
        return
    assert isinstance(body, dict) and body.get("Code") == "OK"
    assert isinstance(biz_id, str)


@SETTINGS
@given(
    content=st.one_of(
        sms_answers.map(lambda b: json.dumps(b).encode()),
        json_values.map(lambda v: json.dumps(v).encode()),
        st.binary(max_size=200),
        st.integers(1, 100_000).map(lambda n: b"[" * n),
        st.just(b'{"Code": "OK", "BizId": NaN}'),
    ),
    status=statuses,
)
def test_raw_send_answers_decode_or_raise_a_typed_error(content: bytes, status: int) -> None:
    try:
        biz_id = parse_send_answer(json_body(fake_response(content, status), "sms", "x"), status)
    except ProviderError as error:
        assert_typed_error(error, "sms")
        return
    assert isinstance(biz_id, str)


detail = st.fixed_dictionaries(
    {
        "OutId": st.sampled_from(["k1", "k2", 1, None]),
        "BizId": st.one_of(st.just("123^456"), json_values),
        "TemplateCode": st.one_of(st.just("SMS_480100001"), json_values),
        "SendStatus": st.one_of(st.sampled_from([1, 2, 3, "3", "9", 0, None]), json_values),
    }
)
send_details = mutated(
    st.fixed_dictionaries(
        {
            "Code": st.just("OK"),
            "TotalCount": st.one_of(st.integers(0, 500), st.integers(0, 500).map(str), json_values),
            "SmsSendDetailDTOs": st.one_of(
                st.fixed_dictionaries({"SmsSendDetailDTO": st.lists(mutated(detail), max_size=4)}),
                json_values,
            ),
        }
    )
)


@SETTINGS
@given(body=st.one_of(send_details, json_values), status=statuses)
@example(body={"Code": "OK", "SmsSendDetailDTOs": []}, status=200)
@example(body={"Code": "OK", "TotalCount": "many"}, status=200)
@example(
    body={
        "Code": "OK",
        "SmsSendDetailDTOs": {"SmsSendDetailDTO": [{"OutId": "k1", "SendStatus": "x"}]},
    },
    status=200,
)
def test_send_details_are_read_or_raise_a_typed_error(body: Any, status: int) -> None:
    try:
        listed, total = parse_send_details(body, status)
    except ProviderError as error:
        assert_typed_error(error, "sms")
        return
    assert type(total) is int and total >= 0
    for found in listed:
        assert isinstance(found.out_id, str) and found.out_id
        assert is_opt_text(found.biz_id) and isinstance(found.template_code, str)
        assert found.status in (1, 2, 3)


robot_answers = st.one_of(
    mutated(
        st.fixed_dictionaries(
            {
                "errcode": st.one_of(
                    st.sampled_from([0, "0", 300001, 310000, 130101, -1, 400, "x", None, 1.5]),
                    json_values,
                ),
                "errmsg": st.one_of(st.sampled_from(["ok", "sign not match"]), json_values),
            }
        )
    ),
    json_values,
)


@SETTINGS
@given(answer=robot_answers)
@example(answer={"errcode": "busy"})
@example(answer={"errcode": None})
@example(answer={"errcode": float("inf")})
def test_robot_answer_is_ok_or_a_typed_error(answer: Any) -> None:
    try:
        check_answer(answer)
    except ProviderError as error:
        assert_typed_error(error, "robot")
        return
    assert isinstance(answer, dict)
    assert answer.get("errcode") in (0, "0")


@SETTINGS
@given(body=st.one_of(robot_answers.filter(lambda a: isinstance(a, dict)), st.just({})))
def test_robot_error_answer_always_maps_to_a_typed_error(body: dict[str, Any]) -> None:
    assert_typed_error(robot_error(body), "robot")
