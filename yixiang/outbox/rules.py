"""Plain functions for the WeCom (企业微信) and DingTalk (钉钉) group robots' documented formats, and
for the signature and retry schedule of the administrator's webhooks (docs/API.md "Webhooks")."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import urllib.parse

# WeCom's group robot refuses markdown over 4096 bytes; DingTalk's limit is far higher (20000).
WECOM_MARKDOWN_MAX_BYTES = 4096
DINGTALK_MARKDOWN_MAX_BYTES = 20000


def truncate_utf8(text: str, max_bytes: int, ellipsis: str = "…") -> str:
    """``text`` cut to at most ``max_bytes`` of UTF-8, never inside a character."""
    raw = text.encode("utf-8")
    if len(raw) <= max_bytes:
        return text
    room = max_bytes - len(ellipsis.encode("utf-8"))
    return raw[: max(room, 0)].decode("utf-8", errors="ignore") + ellipsis


def wecom_payload(markdown: str) -> dict:
    """The JSON body of a WeCom (企业微信) group-robot markdown message."""
    return {"msgtype": "markdown", "markdown": {"content": truncate_utf8(markdown, WECOM_MARKDOWN_MAX_BYTES)}}


def dingtalk_payload(title: str, markdown: str) -> dict:
    """The JSON body of a DingTalk (钉钉) custom-robot markdown message."""
    return {
        "msgtype": "markdown",
        "markdown": {"title": title, "text": truncate_utf8(markdown, DINGTALK_MARKDOWN_MAX_BYTES)},
    }


def dingtalk_sign(timestamp_ms: int, secret: str) -> str:
    """DingTalk robot signature: base64(HMAC-SHA256(secret, "<timestamp>\\n<secret>"))."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signed_webhook_url(url: str, timestamp_ms: int, sign: str) -> str:
    """A DingTalk webhook URL with the ``timestamp`` and ``sign`` query parameters of 加签."""
    extra = urllib.parse.urlencode({"timestamp": str(timestamp_ms), "sign": sign})
    return f"{url}{'&' if '?' in url else '?'}{extra}"


def robot_reply_ok(body: bytes) -> tuple[bool, str]:
    """Both robots answer HTTP 200 with ``{"errcode": 0, "errmsg": "ok"}``; anything else failed."""
    try:
        data = json.loads(body.decode("utf-8") or "{}")
    except (ValueError, UnicodeDecodeError):
        return False, "not JSON"
    if not isinstance(data, dict):
        return False, "not a JSON object"
    code = data.get("errcode")
    return code == 0, f"errcode={code} {data.get('errmsg', '')}".strip()


# After the n-th failed attempt the next one waits WEBHOOK_RETRY_DELAYS[n-1]; after the last, the
# delivery has failed (six attempts over about 14 and a half hours: the receiver's night is covered).
WEBHOOK_RETRY_DELAYS: tuple[dt.timedelta, ...] = (
    dt.timedelta(minutes=1),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=2),
    dt.timedelta(hours=12),
)


def webhook_signature(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>``: the timestamp is in the signed
    material so a captured request cannot be replayed later with a fresh timestamp header."""
    mac = hmac.new(secret.encode("utf-8"), str(timestamp).encode("ascii") + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def webhook_retry_delay(attempts_made: int) -> dt.timedelta | None:
    """How long to wait after ``attempts_made`` failed attempts; None once they are used up."""
    if 1 <= attempts_made <= len(WEBHOOK_RETRY_DELAYS):
        return WEBHOOK_RETRY_DELAYS[attempts_made - 1]
    return None


def webhook_max_attempts() -> int:
    return len(WEBHOOK_RETRY_DELAYS) + 1
