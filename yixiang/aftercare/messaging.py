"""Provider adapters for campaign messages: e-mail and the WeCom / DingTalk group robots through
the outbox's senders, SMS in the Yunpian v2 format. Each adapter sends one message and says how it
went as the outbox's senders do (``yixiang.outbox.senders``): a ``SendResult``, ``PermanentFailure``,
``TemporaryFailure``, or any other exception — in doubt: the recovery asks the provider
(``check``) before anything is sent again.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Protocol

from django.utils import timezone

from yixiang.aftercare.conf import conf
from yixiang.outbox.senders import PermanentFailure, TemporaryFailure, http_post, send_email, send_robot

if TYPE_CHECKING:
    from yixiang.aftercare.models import Message


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


def _decimal(value: object) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except InvalidOperation:
        return None


class EmailAdapter:
    """Plain e-mail through Django's SMTP backend (EMAIL_HOST/PORT/… settings)."""

    channel = "email"

    def send(self, message: Message) -> SendResult:
        ref = send_email(
            to=message.address,
            subject=message.campaign.subject or message.campaign.name,
            body=message.body,
            key=f"message-{message.pk}",
            timeout=conf("HTTP_TIMEOUT_SECONDS"),
        )
        return SendResult(provider_ref=ref)

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

    def send(self, message: Message) -> SendResult:
        if not self.url:
            raise TemporaryFailure("ROBOT_WEBHOOK_URL is not set")
        send_robot(self.url, self.payload(message), kind=self.kind, secret=self.secret, timeout=self.timeout)
        return SendResult()

    def check(self, message: Message) -> bool | None:
        return None


def default_adapters() -> dict[str, Adapter]:
    return {"email": EmailAdapter(), "sms": YunpianSmsAdapter(), "wechat": RobotAdapter()}


def robot_ready() -> bool:
    return bool(conf("ROBOT_WEBHOOK_URL"))
