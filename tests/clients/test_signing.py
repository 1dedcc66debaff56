"""Signatures against the providers' documented examples."""

import hashlib

from aftercare.clients.kuaidi100 import sign_query, verify_push
from aftercare.clients.sms import percent_encode, sign_rpc
from aftercare.clients.taobao import sign_request


def test_top_md5_signature_matches_the_platform_documentation():
    params = {
        "method": "taobao.item.seller.get",
        "app_key": "12345678",
        "session": "test",
        "timestamp": "2016-01-01 12:00:00",
        "format": "json",
        "v": "2.0",
        "sign_method": "md5",
        "fields": "num_iid,title,nick,price,num",
        "num_iid": "11223344",
    }
    assert sign_request(params, "helloworld", "md5") == "66987CB115214E59E6EC978214934FB8"
    assert sign_request({**params, "sign": "ignored"}, "helloworld", "md5") == (
        "66987CB115214E59E6EC978214934FB8"
    )


def test_top_hmac_signature_differs_and_is_upper_hex():
    sign = sign_request({"a": "1"}, "secret", "hmac")
    assert sign == sign.upper() and len(sign) == 32
    assert sign != sign_request({"a": "1"}, "secret", "md5")


def test_aliyun_rpc_signature_matches_the_documented_example():
    params = {
        "Timestamp": "2016-02-23T12:46:24Z",
        "Format": "XML",
        "AccessKeyId": "testid",
        "Action": "DescribeRegions",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
        "Version": "2014-05-26",
        "SignatureVersion": "1.0",
    }
    assert sign_rpc(params, "testsecret", "GET") == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="


def test_rfc3986_encoding_of_the_rpc_signature():
    assert percent_encode("a b*c~d/") == "a%20b%2Ac~d%2F"
    assert percent_encode("亲") == "%E4%BA%B2"


def test_kuaidi100_query_sign_is_md5_of_param_key_customer_in_that_order():
    param = '{"com":"yuantong","num":"YT1"}'
    expected = hashlib.md5((param + "KEY" + "CUST").encode()).hexdigest().upper()
    assert sign_query(param, "KEY", "CUST") == expected
    assert sign_query(param, "CUST", "KEY") != expected


def test_kuaidi100_push_verification_is_case_insensitive_and_rejects_tampering():
    param = '{"status":"polling"}'
    sign = hashlib.md5((param + "salt").encode()).hexdigest()
    assert verify_push(param, sign.lower(), "salt")
    assert verify_push(param, sign.upper(), "salt")
    assert not verify_push(param + " ", sign, "salt")
    assert not verify_push(param, sign, "other-salt")
    assert not verify_push(param, "", "salt")
