"""Local stand-ins for the outside world: a real SMTP server (aiosmtpd) and an HTTP server that
plays the Yunpian SMS API and the WeCom / DingTalk group robots."""

from __future__ import annotations

import email
import itertools
import json
import socket
import threading
import urllib.parse
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpSink:
    """A real SMTP server on 127.0.0.1 that keeps every accepted message."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        msg = email.message_from_bytes(envelope.content, policy=default_policy)
        self.messages.append(msg)
        return "250 OK"

    def __enter__(self) -> SmtpSink:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    def recipients(self) -> list[str]:
        return [m["To"] for m in self.messages]


class FakeProviders:
    """Yunpian v2 (single_send.json, get_record.json) and robot webhooks on a local port."""

    def __init__(self, api_key: str = "test-key") -> None:
        self.api_key = api_key
        self.sms: list[dict[str, str]] = []
        self.robot: list[dict] = []
        self.robot_queries: list[dict[str, list[str]]] = []
        self.bad_mobiles: set[str] = set()
        self._sid = itertools.count(1000)
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def _reply(self, status: int, payload) -> None:
                body = json.dumps(payload, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json;charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                path, _q, query = self.path.partition("?")
                if path == "/v2/sms/single_send.json":
                    form = {k: v[0] for k, v in urllib.parse.parse_qs(raw.decode()).items()}
                    if form.get("apikey") != outer.api_key:
                        return self._reply(401, {"code": -1, "msg": "非法的apikey"})
                    if form["mobile"] in outer.bad_mobiles:
                        return self._reply(
                            400, {"code": 2, "msg": "请求参数格式错误", "detail": "参数 mobile 格式不正确"}
                        )
                    with outer.lock:
                        outer.sms.append(form)
                        sid = next(outer._sid)
                    return self._reply(
                        200, {"code": 0, "msg": "发送成功", "count": 1, "fee": 0.05, "unit": "RMB",
                              "mobile": form["mobile"], "sid": sid},
                    )  # fmt: skip
                if path == "/v2/sms/get_record.json":
                    form = {k: v[0] for k, v in urllib.parse.parse_qs(raw.decode()).items()}
                    rows = [
                        {"sid": str(i), "mobile": s["mobile"], "text": s["text"], "uid": s.get("uid"),
                         "send_status": "SUCCESS", "report_status": "SUCCESS", "fee": 1}
                        for i, s in enumerate(outer.sms) if s["mobile"] == form.get("mobile")
                    ]  # fmt: skip
                    return self._reply(200, rows)
                if path.startswith("/robot"):
                    with outer.lock:
                        outer.robot.append(json.loads(raw.decode()))
                        outer.robot_queries.append(urllib.parse.parse_qs(query))
                    return self._reply(200, {"errcode": 0, "errmsg": "ok"})
                return self._reply(404, {"code": 404})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeProviders:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def sms_uids(self) -> list[str]:
        return [s["uid"] for s in self.sms]
