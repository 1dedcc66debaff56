"""Masking personal data and rendering message templates safely."""

import logging

from aftercare.privacy import install_log_redaction, mask_name, mask_phone, redact
from aftercare.templates import load_templates, render


def test_masks():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("") == ""
    assert mask_name("张三丰") == "张**"
    assert mask_name("王") == "王*"


def test_redact_hides_phones_inside_text_and_registered_secrets():
    install_log_redaction(["sk-live-abcdef"])
    text = redact("派件员 13912345678 key=sk-live-abcdef order 41234567890123456")
    assert "13912345678" not in text and "139****5678" in text
    assert "sk-live-abcdef" not in text
    assert "41234567890123456" in text  # long order numbers are not phones


def test_log_records_are_redacted_whatever_logger_writes_them(caplog):
    install_log_redaction(["topsecret-value"])
    with caplog.at_level(logging.INFO):
        logging.getLogger("some.library").info("call %s with %s", "13812345678", "topsecret-value")
    assert "13812345678" not in caplog.text and "topsecret-value" not in caplog.text
    assert "138****5678" in caplog.text


def test_every_template_renders_with_its_variables():
    for name, template in load_templates().items():
        params = {v: "值" for v in template.variables}
        _, clean, text = render(name, params)
        assert "${" not in text and set(clean) == template.variables
        assert template.code.startswith("SMS_") and template.kind in {"transactional", "marketing"}


def test_buyer_text_cannot_inject_template_code_or_control_characters():
    hostile = "${waybill}{{7*7}}<script>\x00\x1b[31m" + "长" * 50
    _, clean, text = render(
        "logistics_stalled_minor", {"shop": hostile, "courier": "圆通速递", "waybill": "YT1"}
    )
    assert "${waybill}{{7*7}}<script>" in text  # literal, not evaluated
    assert "\x00" not in text and "\x1b" not in text
    assert len(clean["shop"]) <= 35


def test_every_marketing_text_carries_the_opt_out_wording():
    templates = load_templates().values()
    marketing = [t for t in templates if t.kind == "marketing"]
    assert marketing and all(t.text.endswith("回T退订") for t in marketing)
    assert not any("回T退订" in t.text for t in templates if t.kind == "transactional")
