"""Alibaba Cloud SMS (dysmsapi, RPC style): signature v1 checks, SendSms, QuerySendDetails."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import threading
import tomllib
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .clock import SimClock
from .shops import ALL_SHOPS, CREDENTIALS, mask_phone
from .stats import SandboxStats
from .wire import Reply, Request, aliyun_request_id, china_date, china_time, json_reply, real_now

log = logging.getLogger(__name__)

API_VERSION = "2017-05-25"
MOBILE = re.compile(r"1[3-9]\d{9}")
PLACEHOLDER = re.compile(r"\$\{(\w+)\}")
_COMMON = (
    "AccessKeyId",
    "Action",
    "Version",
    "Timestamp",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureNonce",
    "Signature",
)


@dataclass(frozen=True)
class SmsTemplate:
    """An approved template: code, kind and text with ${var} placeholders."""

    name: str
    code: str
    kind: str
    text: str

    @property
    def variables(self) -> tuple[str, ...]:
        """Return the placeholder names, in order of appearance."""
        return tuple(dict.fromkeys(PLACEHOLDER.findall(self.text)))

    def render(self, params: dict[str, str]) -> str:
        """Substitute the params, as plain text (nothing is ever evaluated)."""
        return PLACEHOLDER.sub(lambda m: params.get(m.group(1), m.group(0)), self.text)


@dataclass(frozen=True)
class SmsRecord:
    """One SMS the sandbox accepted (sent_at on the simulated clock)."""

    phone: str
    sign_name: str
    template_code: str
    params: dict[str, str]
    out_id: str
    biz_id: str
    sent_at: datetime
    content: str

    def to_dict(self) -> dict[str, Any]:
        """Return JSON-ready plain data."""
        return {
            "phone": self.phone,
            "sign_name": self.sign_name,
            "template_code": self.template_code,
            "params": dict(self.params),
            "out_id": self.out_id,
            "biz_id": self.biz_id,
            "sent_at": self.sent_at.isoformat(),
            "content": self.content,
        }


def load_templates(path: Path | None = None) -> dict[str, SmsTemplate]:
    """Load the approved templates, by TemplateCode, from aftercare/templates/sms.toml."""
    if path is None:
        data = tomllib.loads(
            resources.files("aftercare").joinpath("templates/sms.toml").read_text("utf-8")
        )
    else:
        data = tomllib.loads(path.read_text("utf-8"))
    return {
        table["code"]: SmsTemplate(name, table["code"], table.get("kind", ""), table["text"])
        for name, table in data.items()
        if isinstance(table, dict) and "code" in table and "text" in table
    }


def percent_encode(value: str) -> str:
    """Encode per RFC 3986 as Alibaba Cloud does (space %20, * %2A, ~ kept)."""
    return quote(value, safe="~")


def rpc_signature(params: dict[str, str], secret: str, http_method: str) -> str:
    """Compute the Alibaba Cloud RPC v1 signature (HMAC-SHA1, base64)."""
    canonical = "&".join(
        f"{percent_encode(k)}={percent_encode(v)}"
        for k, v in sorted(params.items())
        if k != "Signature"
    )
    to_sign = f"{http_method}&{percent_encode('/')}&{percent_encode(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class AliyunSms:
    """Handle `/sms/`: authenticate, then send (record) or query SMS."""

    name = "sms"

    def __init__(
        self,
        clock: SimClock,
        stats: SandboxStats,
        *,
        templates: dict[str, SmsTemplate] | None = None,
        templates_path: Path | None = None,
        per_phone_per_minute: int | None = None,
        skew_minutes: float = 15,
        biz_seed: int = 0,
    ) -> None:
        self.clock = clock
        self.stats = stats
        # Templates read from a file are re-read when an unknown code arrives (added later).
        self._templates_path = templates_path
        self._reloadable = templates is None
        self.templates = templates if templates is not None else load_templates(templates_path)
        # Called with every accepted SMS (outside the lock); the world's buyers react to it.
        self.on_accept: Callable[[SmsRecord, SmsTemplate], None] | None = None
        self.per_phone_per_minute = per_phone_per_minute
        self.max_skew = timedelta(minutes=skew_minutes)
        self._key_id: str = CREDENTIALS["sms"]["access_key_id"]
        self._secret: str = CREDENTIALS["sms"]["access_key_secret"]
        self._sign_names = frozenset(shop.sign_name for shop in ALL_SHOPS.values())
        self._guard = threading.Lock()
        self._nonces: set[str] = set()
        self._records: list[SmsRecord] = []
        self._by_phone_day: dict[tuple[str, str], list[SmsRecord]] = defaultdict(list)
        self._recent: dict[str, deque[datetime]] = defaultdict(deque)
        # Phones whose send-details lookups fail: "refused" (a business error) or "unreadable".
        self.lookup_faults: dict[str, str] = {}
        # BizIds look like 900619746936498440^0; a counter keeps them unique and ordered.
        self._next_biz = 900000000000000000 + (biz_seed % 10**12) * 1000

    @property
    def sent(self) -> list[SmsRecord]:
        """Return a copy of the accepted SMS, oldest first."""
        with self._guard:
            return list(self._records)

    def reset(self) -> None:
        """Forget every accepted SMS, used nonce and flow-control window."""
        with self._guard:
            self._records.clear()
            self._by_phone_day.clear()
            self._recent.clear()
            self._nonces.clear()

    def handle(self, request: Request) -> Reply:
        """Authenticate and dispatch one RPC call."""
        params = request.params
        for name in _COMMON:
            if not params.get(name):
                return _error(400, f"Missing{name}", f"{name} is mandatory for this action.")
        if params["AccessKeyId"] != self._key_id:
            return _error(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        if params["SignatureMethod"] != "HMAC-SHA1" or params["SignatureVersion"] != "1.0":
            return _error(
                400, "InvalidSignatureMethod", "Specified signature method is not supported."
            )
        expected = rpc_signature(params, self._secret, request.method.upper())
        if not hmac.compare_digest(params["Signature"].encode(), expected.encode()):
            self.stats.count_rejected_signature(self.name)
            return _error(
                400,
                "SignatureDoesNotMatch",
                "Specified signature is not matched with our calculation.",
            )
        try:
            sent = datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except ValueError:
            return _error(
                400,
                "InvalidTimeStamp.Format",
                "Specified time stamp or date value is not well formatted.",
            )
        # Judged on the real wall clock, like the TOP timestamp.
        if abs(real_now() - sent) > self.max_skew:
            return _error(
                400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired."
            )
        with self._guard:
            if params["SignatureNonce"] in self._nonces:
                return _error(
                    400, "SignatureNonceUsed", "Specified signature nonce was used already."
                )
            self._nonces.add(params["SignatureNonce"])
        if params["Version"] != API_VERSION:
            return _error(400, "InvalidVersion", "Specified parameter Version is not valid.")
        action = params["Action"]
        if action == "SendSms":
            return self._send(params)
        if action == "QuerySendDetails":
            return self._query(params)
        return _error(
            404,
            "InvalidAction.NotFound",
            "Specified api is not found, please check your url and method.",
        )

    def _send(self, params: dict[str, str]) -> Reply:
        for name in ("PhoneNumbers", "SignName", "TemplateCode"):
            if not params.get(name):
                return _error(400, f"Missing{name}", f"{name} is mandatory for this action.")
        phones = [p.strip() for p in params["PhoneNumbers"].split(",")]
        if len(phones) > 1000:
            return _business("isv.MOBILE_COUNT_OVER_LIMIT", "手机号码数量超过限制")
        if not all(MOBILE.fullmatch(p) for p in phones):
            return _business("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
        sign_name = params["SignName"]
        if sign_name not in self._sign_names:
            return _business("isv.SMS_SIGNATURE_ILLEGAL", "该账号下找不到对应签名")
        template = self._template(params["TemplateCode"])
        if template is None:
            return _business("isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板")
        values: dict[str, str] = {}
        raw = params.get("TemplateParam", "")
        if raw:
            try:
                decoded = json.loads(raw)
            except ValueError:
                decoded = None
            if not isinstance(decoded, dict) or not all(
                isinstance(v, str) for v in decoded.values()
            ):
                return _business("isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值")
            values = decoded
        if any(name not in values for name in template.variables):
            return _business("isv.TEMPLATE_MISSING_PARAMETERS", "模板变量缺少对应参数值")
        now = self.clock.now()
        accepted: list[SmsRecord] = []
        with self._guard:
            if self.per_phone_per_minute is not None and self._over_limit(phones, now):
                return _business(
                    "isv.BUSINESS_LIMIT_CONTROL",
                    f"触发分钟级流控Permits:{self.per_phone_per_minute}",
                )
            biz_id = f"{self._next_biz}^0"
            self._next_biz += 1
            content = template.render(values)
            for phone in phones:
                record = SmsRecord(
                    phone=phone,
                    sign_name=sign_name,
                    template_code=template.code,
                    params=dict(values),
                    out_id=params.get("OutId", ""),
                    biz_id=biz_id,
                    sent_at=now,
                    content=content,
                )
                self._records.append(record)
                accepted.append(record)
                self._by_phone_day[(phone, china_date(now))].append(record)
                if self.per_phone_per_minute is not None:
                    self._recent[phone].append(now)
        self.stats.count_sms(len(phones))
        log.debug("sms accepted %s to %s", template.code, ",".join(mask_phone(p) for p in phones))
        self._notify(accepted, template)
        return json_reply(
            {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": aliyun_request_id()}
        )

    def deliver(
        self, phone: str, sign_name: str, template_code: str, values: dict[str, str], out_id: str
    ) -> str:
        """Deliver one message another gateway accepted (SMS by OAID); return its id.

        Raises ValueError with the platform's reason when the signature, template or
        parameters are wrong.
        """
        if sign_name not in self._sign_names:
            raise ValueError("isv.sign-illegal: 短信签名不合法")
        template = self._template(template_code)
        if template is None:
            raise ValueError("isv.template-illegal: 短信模板不存在")
        if any(name not in values for name in template.variables):
            raise ValueError("isv.template-param-missing: 模板变量缺少对应参数值")
        now = self.clock.now()
        with self._guard:
            biz_id = f"{self._next_biz}^0"
            self._next_biz += 1
            record = SmsRecord(
                phone, sign_name, template.code, dict(values), out_id, biz_id, now,
                template.render(values),
            )  # fmt: skip
            self._records.append(record)
            self._by_phone_day[(phone, china_date(now))].append(record)
        self.stats.count_sms(1)
        self._notify([record], template)
        return biz_id

    def _template(self, code: str) -> SmsTemplate | None:
        """Return the template of a code, re-reading the file once for a code not seen yet."""
        template = self.templates.get(code)
        if template is not None or not self._reloadable:
            return template
        try:
            self.templates = load_templates(self._templates_path)
        except (
            OSError,
            ValueError,
            KeyError,
            TypeError,
        ) as error:  # TOMLDecodeError is a ValueError
            log.warning("sms templates could not be re-read: %s", error)
            return None
        return self.templates.get(code)

    def _notify(self, records: list[SmsRecord], template: SmsTemplate) -> None:
        hook = self.on_accept
        if hook is None:
            return
        for record in records:
            try:
                hook(record, template)
            except Exception:  # a reacting world must never break the provider's answer
                log.exception("sms on_accept hook failed for %s", record.out_id)

    def _over_limit(self, phones: list[str], now: datetime) -> bool:
        """Tell whether any phone already got its per-minute share (simulated clock)."""
        assert self.per_phone_per_minute is not None
        for phone in phones:
            recent = self._recent[phone]
            while recent and now - recent[0] >= timedelta(minutes=1):
                recent.popleft()
            if len(recent) >= self.per_phone_per_minute:
                return True
        return False

    def _query(self, params: dict[str, str]) -> Reply:
        for name in ("PhoneNumber", "SendDate", "PageSize", "CurrentPage"):
            if not params.get(name):
                return _error(400, f"Missing{name}", f"{name} is mandatory for this action.")
        try:
            page_size = int(params["PageSize"])
            page = int(params["CurrentPage"])
            datetime.strptime(params["SendDate"], "%Y%m%d")
        except ValueError:
            return _business("isv.INVALID_PARAMETERS", "参数异常")
        if not 1 <= page_size <= 50 or page < 1:
            return _business("isv.INVALID_PARAMETERS", "参数异常")
        fault = self.lookup_faults.get(params["PhoneNumber"])
        if fault == "refused":
            return _business("isv.BUSINESS_LIMIT_CONTROL", "触发号码天级流控")
        if fault == "unreadable":
            return Reply(200, b'{"Code": "OK", "TotalCount": 1, "SmsSendDetailDTOs": [')
        with self._guard:
            found = list(self._by_phone_day.get((params["PhoneNumber"], params["SendDate"]), ()))
        biz_id = params.get("BizId", "")
        if biz_id:
            found = [r for r in found if r.biz_id == biz_id]
        found.reverse()  # newest first
        chunk = found[(page - 1) * page_size : page * page_size]
        details = [
            {
                "PhoneNum": r.phone,
                "SendStatus": 3,
                "ErrCode": "DELIVERED",
                "TemplateCode": r.template_code,
                "Content": r.content,
                "SendDate": china_time(r.sent_at),
                "ReceiveDate": china_time(r.sent_at + timedelta(seconds=3)),
                "OutId": r.out_id,
            }
            for r in chunk
        ]
        return json_reply(
            {
                "Code": "OK",
                "Message": "OK",
                "TotalCount": len(found),
                "SmsSendDetailDTOs": {"SmsSendDetailDTO": details},
                "RequestId": aliyun_request_id(),
            }
        )

    def busy(self, request: Request) -> Reply:
        """Answer the provider's flow control (isv.BUSINESS_LIMIT_CONTROL)."""
        return _business("isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1")

    rate_limited = busy

    def platform_error(self, request: Request) -> Reply:
        """Answer a provider-side system error (nothing was sent)."""
        return _business("isp.SYSTEM_ERROR", "系统出现错误，请重新调用")

    def sample_body(self, request: Request) -> dict[str, Any]:
        """Return a plausible success body, for truncation by the malformed fault."""
        return {
            "Code": "OK",
            "Message": "OK",
            "BizId": "900619746936498440^0",
            "RequestId": aliyun_request_id(),
        }


def _error(status: int, code: str, message: str) -> Reply:
    return json_reply(
        {"RequestId": aliyun_request_id(), "Code": code, "Message": message}, status=status
    )


def _business(code: str, message: str) -> Reply:
    return _error(200, code, message)
