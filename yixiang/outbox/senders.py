"""The one e-mail sender, the one WeCom/DingTalk robot sender and the one webhook POST. Each sends
one message and says how it went:

* returns — the server accepted the message;
* raises ``TemporaryFailure`` — nothing was handed over (connection refused…): retry later;
* raises ``PermanentFailure`` — the server refused it (bad address…): not sent;
* raises ``InDoubt`` (or any other exception) — we cannot tell whether it went out: never send it
  again blindly.
"""

from __future__ import annotations

import json
import smtplib
import socket
import time
import urllib.error
import urllib.request

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection

from yixiang.outbox import rules


class TemporaryFailure(Exception):
    """Nothing reached the provider; the message may be tried again."""


class PermanentFailure(Exception):
    """The provider refused the message; it will not be tried again."""


class InDoubt(Exception):
    """The provider stopped answering mid-way: we cannot tell whether the message went out."""


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


def message_id(key: str) -> str:
    """A stable Message-ID: receiving systems drop a duplicate if one ever slips through."""
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
    return f"<yixiang-{key}@{domain}>"


def send_email(*, to: str, subject: str, body: str, key: str, timeout: float, html: str = "") -> str:
    """One e-mail through Django's SMTP backend (EMAIL_HOST/PORT/… settings); returns its Message-ID."""
    mid = message_id(key)
    email = EmailMultiAlternatives(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={"Message-ID": mid},
        connection=get_connection(fail_silently=False, timeout=timeout),
    )
    if html:
        email.attach_alternative(html, "text/html")
    try:
        email.send()
    except (ConnectionRefusedError, socket.gaierror, smtplib.SMTPConnectError) as exc:
        raise TemporaryFailure(f"mail server unreachable: {exc}") from exc
    except smtplib.SMTPRecipientsRefused as exc:
        raise PermanentFailure(f"recipient refused: {to}") from exc
    except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
        raise PermanentFailure(f"mail refused: {exc}") from exc
    except (TimeoutError, smtplib.SMTPServerDisconnected) as exc:
        raise InDoubt(f"mail server stopped answering: {exc}") from exc
    return mid


def send_robot(url: str, payload: dict, *, kind: str, secret: str, timeout: float) -> None:
    """One message to a WeCom or DingTalk group robot (DingTalk's URL signed when it has a secret)."""
    if not url:
        raise TemporaryFailure("no robot webhook address")
    if kind == "dingtalk" and secret:
        ts = int(time.time() * 1000)
        url = rules.signed_webhook_url(url, ts, rules.dingtalk_sign(ts, secret))
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    try:
        status, raw = http_post(url, data=body, content_type="application/json;charset=utf-8", timeout=timeout)
    except (TimeoutError, OSError) as exc:
        raise InDoubt(f"webhook stopped answering: {exc}") from exc
    if status >= 500:
        raise TemporaryFailure(f"robot webhook error {status}")
    ok, detail = rules.robot_reply_ok(raw)
    if status != 200 or not ok:
        raise PermanentFailure(f"HTTP {status} {detail}")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A webhook is POSTed where it was registered: a redirect is the receiver's answer, not a hop
    (urllib would turn a POST into a bodiless GET on 301/302)."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_webhook_opener = urllib.request.build_opener(_NoRedirect)


def send_webhook(url: str, *, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST one signed webhook body; returns the receiver's HTTP status (any status: the caller
    decides what a 410 or a 500 means). No answer at all raises ``TemporaryFailure`` (refused) or
    ``InDoubt`` (stopped answering: the receiver may have it, hence the delivery id header)."""
    if not url.startswith(("http://", "https://")):
        raise PermanentFailure(f"not an http(s) URL: {url!r}")
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)  # noqa: S310 - scheme checked
    try:
        with _webhook_opener.open(request, timeout=timeout) as response:
            response.read(65536)  # the body is not used; read a little so keep-alive servers are happy
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, ConnectionRefusedError | socket.gaierror):
            raise TemporaryFailure(f"receiver unreachable: {exc.reason}") from exc
        raise InDoubt(f"receiver stopped answering: {exc.reason}") from exc
    except (TimeoutError, OSError, ValueError) as exc:
        raise InDoubt(f"receiver stopped answering: {exc}") from exc
