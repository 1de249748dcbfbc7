"""The robots' documented formats (moved here from reports' and aftercare's rule tests unchanged)."""

from __future__ import annotations

import hashlib
import json

import pytest

from yixiang.outbox import rules


def test_robot_payloads_follow_the_documented_formats():
    body = rules.wecom_payload("### 今日\n- 张三")
    assert body == {"msgtype": "markdown", "markdown": {"content": "### 今日\n- 张三"}}
    body = rules.dingtalk_payload("今日待办", "### 今日")
    assert body == {"msgtype": "markdown", "markdown": {"title": "今日待办", "text": "### 今日"}}
    long = "客" * 3000  # 9000 bytes in UTF-8
    content = rules.wecom_payload(long)["markdown"]["content"]
    assert len(content.encode("utf-8")) <= 4096 and content.endswith("…")
    assert rules.robot_reply_ok(json.dumps({"errcode": 0, "errmsg": "ok"}).encode()) == (True, "errcode=0 ok")
    assert rules.robot_reply_ok(b'{"errcode": 93000, "errmsg": "invalid webhook url"}')[0] is False
    assert rules.robot_reply_ok(b"<html>")[0] is False


def test_signed_webhook_url_keeps_the_access_token():
    url = rules.signed_webhook_url("https://oapi.dingtalk.com/robot/send?access_token=abc", 1700000000000, "a+b/c=")
    assert url == "https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp=1700000000000&sign=a%2Bb%2Fc%3D"


@pytest.mark.parametrize(
    "text,limit,expected",
    [("abc", 10, "abc"), ("意向客户", 7, "意…"), ("意向客户", 12, "意向客户"), ("abcdef", 4, "a…")],
)
def test_truncate_utf8_never_breaks_a_character(text, limit, expected):
    # "意" is 3 bytes and "…" is 3: within 7 bytes only one character fits before the ellipsis.
    assert rules.truncate_utf8(text, limit) == expected


def test_dingtalk_signature_is_hmac_sha256_of_timestamp_and_secret():
    import base64
    import hmac

    expected = base64.b64encode(hmac.new(b"SEC", b"1700000000000\nSEC", hashlib.sha256).digest()).decode()
    assert rules.dingtalk_sign(1700000000000, "SEC") == expected


def test_webhook_signature_is_hmac_sha256_of_timestamp_dot_body():
    # Computed with `printf '1700000000.{"id":"x"}' | openssl dgst -sha256 -hmac whsec-0123456789abcdef`.
    expected = "sha256=ffcc3087b2ccc7bc8c7614f2a2500a2cb8605108d6b4bb72c037de4f60d0bd08"
    got = rules.webhook_signature("whsec-0123456789abcdef", 1700000000, b'{"id":"x"}')
    assert got == expected
    # Another timestamp with the same body signs differently: a replay cannot swap the timestamp.
    assert rules.webhook_signature("whsec-0123456789abcdef", 1700000001, b'{"id":"x"}') != expected


def test_webhook_retries_back_off_then_stop():
    minutes = [rules.webhook_retry_delay(n).total_seconds() / 60 for n in range(1, 6)]
    assert minutes == [1, 5, 30, 120, 720]
    assert rules.webhook_retry_delay(6) is None and rules.webhook_retry_delay(0) is None
    assert rules.webhook_max_attempts() == 6
