"""Provider adapters for campaign messages: e-mail over SMTP, SMS in the Yunpian v2 format, and the
WeCom / DingTalk group robots. Each adapter sends one message and says how it went:

* returns a ``SendResult`` — the provider accepted the message;
* raises ``PermanentFailure`` — the provider refused it (bad number…): not sent, do not retry;
* raises ``TemporaryFailure`` — nothing was handed over (connection refused…): retry later;
* any other exception — we cannot tell whether it went out: the message stays "in doubt" and the
  recovery asks the provider (``check``) before anything is sent again.
"""

from __future__ import annotations

import datetime as dt
import json
import smtplib
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Protocol

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.utils import timezone

from yixiang.aftercare import rules
from yixiang.aftercare.conf import conf

if TYPE_CHECKING:
    from yixiang.aftercare.models import Message


class TemporaryFailure(Exception):
    """Nothing reached the provider; the message may be tried again."""


class PermanentFailure(Exception):
    """The provider refused the message; it will not be tried again."""


@dataclass(frozen=True)
class SendResult:
    provider_ref: str = ""
    cost: Decimal | None = None  # None: use the unit cost from the settings


class Adapter(Protocol):
    channel: str

    def send(self, message: Message) -> SendResult: ...

    def check(self, message: Message) -> bool | None:
        """Whether the provider has the message: True sent, False not sent, None cannot tell."""
        ...


def http_post(url: str, *, data: bytes, content_type: str, timeout: float) -> tuple[int, bytes]:
    if not url.startswith(("http://", "https://")):
        raise PermanentFailure(f"not an http(s) URL: {url!r}")
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url, data=data, method="POST", headers={"Content-Type": content_type, "Accept": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as exc:  # the provider answered: read its error body
        return exc.code, exc.read()
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, ConnectionRefusedError | socket.gaierror):
            raise TemporaryFailure(f"provider unreachable: {exc.reason}") from exc
        raise


def _decimal(value: object) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except InvalidOperation:
        return None


class EmailAdapter:
    """Plain e-mail through Django's SMTP backend (EMAIL_HOST/PORT/… settings)."""

    channel = "email"

    def send(self, message: Message) -> SendResult:
        domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
        message_id = f"<yixiang-message-{message.pk}@{domain}>"
        email = EmailMessage(
            subject=message.campaign.subject or message.campaign.name,
            body=message.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.address],
            # A stable Message-ID lets receiving systems drop a duplicate if one ever slips through.
            headers={"Message-ID": message_id},
            connection=get_connection(fail_silently=False, timeout=conf("HTTP_TIMEOUT_SECONDS")),
        )
        try:
            email.send()
        except (ConnectionRefusedError, socket.gaierror, smtplib.SMTPConnectError) as exc:
            raise TemporaryFailure(f"mail server unreachable: {exc}") from exc
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentFailure(f"recipient refused: {message.address}") from exc
        return SendResult(provider_ref=message_id)

    def check(self, message: Message) -> bool | None:
        return None  # SMTP keeps no record we could ask


class YunpianSmsAdapter:
    """SMS in the Yunpian v2 format: POST single_send.json (apikey, mobile, text, uid)."""

    channel = "sms"

    def __init__(self) -> None:
        self.url = conf("SMS_PROVIDER_URL")
        self.record_url = conf("SMS_RECORD_URL")
        self.api_key = conf("SMS_API_KEY")
        self.signature = conf("SMS_SIGNATURE")
        self.timeout = conf("HTTP_TIMEOUT_SECONDS")

    def text(self, message: Message) -> str:
        # The provider requires the approved signature 【…】 in front of the text.
        return f"【{self.signature}】{message.body}" if self.signature else message.body

    def send(self, message: Message) -> SendResult:
        if not self.api_key:
            raise TemporaryFailure("SMS_API_KEY is not set")
        form = urllib.parse.urlencode(
            {"apikey": self.api_key, "mobile": message.address, "text": self.text(message), "uid": str(message.pk)}
        ).encode()
        status, body = http_post(
            self.url, data=form, content_type="application/x-www-form-urlencoded;charset=utf-8", timeout=self.timeout
        )
        try:
            data = json.loads(body.decode("utf-8"))
        except ValueError as exc:
            if status >= 500:
                raise TemporaryFailure(f"provider error {status}") from exc
            raise
        code = data.get("code")
        if code == 0:
            return SendResult(provider_ref=str(data.get("sid", "")), cost=_decimal(data.get("fee")))
        if status >= 500 or (isinstance(code, int) and code < 0):  # negative codes: system side, retry
            raise TemporaryFailure(f"{code}: {data.get('msg', '')}")
        raise PermanentFailure(f"{code}: {data.get('msg', '')} {data.get('detail', '')}".strip())

    def check(self, message: Message) -> bool | None:
        """Ask get_record.json for the sends to this number around the claim time; ours carry our uid."""
        if not (self.api_key and self.record_url and message.claimed_at):
            return None
        local = timezone.localtime
        start = local(message.claimed_at - dt.timedelta(minutes=5))
        end = local(timezone.now() + dt.timedelta(minutes=5))
        form = urllib.parse.urlencode(
            {
                "apikey": self.api_key,
                "mobile": message.address,
                "start_time": start.strftime("%Y-%m-%d %H:%M:%S"),
                "end_time": end.strftime("%Y-%m-%d %H:%M:%S"),
                "page_num": 1,
                "page_size": 100,
            }
        ).encode()
        try:
            status, body = http_post(
                self.record_url,
                data=form,
                content_type="application/x-www-form-urlencoded;charset=utf-8",
                timeout=self.timeout,
            )
            records = json.loads(body.decode("utf-8"))
        except Exception:  # noqa: BLE001 - cannot ask now: still in doubt
            return None
        if status != 200 or not isinstance(records, list):
            return None
        return any(str(r.get("uid")) == str(message.pk) for r in records if isinstance(r, dict))


class RobotAdapter:
    """A WeCom or DingTalk group robot: the personalised text goes to the rep's group, mentioning the
    rep by phone, with the customer's WeChat id so the rep forwards it (a robot cannot reach a
    customer's personal WeChat)."""

    channel = "wechat"

    def __init__(self) -> None:
        self.kind = conf("ROBOT_KIND")
        self.url = conf("ROBOT_WEBHOOK_URL")
        self.secret = conf("ROBOT_SECRET")
        self.timeout = conf("HTTP_TIMEOUT_SECONDS")

    def content(self, message: Message) -> str:
        customer = message.customer
        return f"[{customer.name} · WeChat {message.address}]\n{message.body}"

    def payload(self, message: Message) -> dict:
        mention = [message.rep.phone] if message.rep and message.rep.phone else []
        if self.kind == "dingtalk":
            return {"msgtype": "text", "text": {"content": self.content(message)}, "at": {"atMobiles": mention}}
        return {"msgtype": "text", "text": {"content": self.content(message), "mentioned_mobile_list": mention}}

    def signed_url(self) -> str:
        if self.kind != "dingtalk" or not self.secret:
            return self.url
        ts = int(time.time() * 1000)
        sign = urllib.parse.quote_plus(rules.dingtalk_sign(ts, self.secret))
        joiner = "&" if "?" in self.url else "?"
        return f"{self.url}{joiner}timestamp={ts}&sign={sign}"

    def send(self, message: Message) -> SendResult:
        if not self.url:
            raise TemporaryFailure("ROBOT_WEBHOOK_URL is not set")
        body = json.dumps(self.payload(message), ensure_ascii=False).encode("utf-8")
        status, raw = http_post(
            self.signed_url(), data=body, content_type="application/json;charset=utf-8", timeout=self.timeout
        )
        if status >= 500:
            raise TemporaryFailure(f"robot webhook error {status}")
        data = json.loads(raw.decode("utf-8") or "{}")
        if data.get("errcode") == 0:
            return SendResult()
        raise PermanentFailure(f"{data.get('errcode')}: {data.get('errmsg', '')}")

    def check(self, message: Message) -> bool | None:
        return None


def default_adapters() -> dict[str, Adapter]:
    return {"email": EmailAdapter(), "sms": YunpianSmsAdapter(), "wechat": RobotAdapter()}


def robot_ready() -> bool:
    return bool(conf("ROBOT_WEBHOOK_URL"))
