"""The peer in the benchmark: DjangoCRM 1.7.0 (PyPI ``django-crm-admin``) beside Yixiang, same data,
same server, comparable pages timed over HTTP, interleaved, as a sales user.

Installed on demand into its own venv under ``$YIXIANG_PEER_DIR`` (default /tmp/yixiang-peer):
the wheel's pinned requirements without ``mysqlclient`` (SQLite only), then the wheel itself with
``--no-deps``; ``setupdata`` (its migrate + fixtures). Nothing of it is kept in this repository.

Its data: one company per Yixiang customer with its contact person, and for every tracked customer
(owned, stage 0–4) a deal with the request it was made from, owned by the same rep
(``bench/peer_load.py``, run by the peer's own Python). Both apps run behind gunicorn (2 workers ×
4 threads, DEBUG off) and are timed request by request, alternating which goes first; CPU per
request is the server processes' CPU time over that request (nothing else is sent to them).
"""

from __future__ import annotations

import html.parser
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
import zipfile
from collections.abc import Callable
from http.cookies import SimpleCookie
from pathlib import Path

PEER_PACKAGE = "django-crm-admin"
PEER_VERSION = "1.7.0"
PEER_DIR = Path(os.environ.get("YIXIANG_PEER_DIR", "/tmp/yixiang-peer"))  # noqa: S108 (scratch)
CRM = "/en/123/crm"  # DjangoCRM's default SECRET_CRM_PREFIX, under its language prefix

PEER_SETTINGS = """# DjangoCRM's own settings, for the benchmark: DEBUG off, a SQLite file beside it.
from webcrm.settings import *  # noqa

DEBUG = False
DATABASES = {{"default": {{"ENGINE": "django.db.backends.sqlite3", "NAME": {db!r}}}}}
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
"""


class PeerFailed(RuntimeError):
    """The peer could not be installed, loaded or served: the message says which step and why."""


def _run(step: str, cmd: list[str], **kw) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout)[-1500:]
        raise PeerFailed(f"{step} failed (exit {done.returncode}): {' '.join(map(str, cmd[:6]))} …\n{tail}")
    return done.stdout


def _python() -> Path:
    return PEER_DIR / "venv" / "bin" / "python"


def _env() -> dict[str, str]:
    app = PEER_DIR / "app"
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "YIXIANG_"))},
        "DJANGO_SETTINGS_MODULE": "peer_settings",
        "PYTHONPATH": str(app),
    }


def ensure_installed(say=print) -> str:
    """The peer's venv, requirements and wheel; its settings; ``setupdata``. Idempotent."""
    PEER_DIR.mkdir(parents=True, exist_ok=True)
    py = _python()
    if not py.exists():
        say(f"peer: creating its venv in {PEER_DIR / 'venv'} …")
        _run("creating the peer's venv", [sys.executable, "-m", "venv", str(PEER_DIR / "venv")])
    wheels = sorted((PEER_DIR / "dl").glob("django_crm_admin-*.whl"))
    if not wheels:
        say(f"peer: pip download {PEER_PACKAGE}=={PEER_VERSION} …")
        _run(
            f"downloading {PEER_PACKAGE}=={PEER_VERSION} from PyPI",
            [
                str(py),
                "-m",
                "pip",
                "download",
                f"{PEER_PACKAGE}=={PEER_VERSION}",
                "--no-deps",
                "-d",
                str(PEER_DIR / "dl"),
            ],
        )
        wheels = sorted((PEER_DIR / "dl").glob("django_crm_admin-*.whl"))
    wheel = wheels[-1]
    marker = PEER_DIR / "installed"
    if not marker.exists():
        with zipfile.ZipFile(wheel) as z:
            meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
            requires = [
                line.split(":", 1)[1].strip()
                for line in z.read(meta).decode().splitlines()
                if line.startswith("Requires-Dist:")
            ]
        reqs = [r for r in requires if not r.lower().startswith("mysqlclient")]  # SQLite: no MySQL driver
        (PEER_DIR / "requirements.txt").write_text("\n".join(reqs) + "\n")
        say(f"peer: pip install its {len(reqs)} pinned requirements (without mysqlclient) and gunicorn …")
        pins = (Path(__file__).resolve().parent.parent / "requirements.txt").read_text()
        gunicorn = re.search(r"^gunicorn==\S+", pins, re.M)
        _run(
            "installing the peer's requirements",
            [str(py), "-m", "pip", "install", "-q", "-r", str(PEER_DIR / "requirements.txt")]
            + [gunicorn.group(0) if gunicorn else "gunicorn"],
        )
        _run("installing the peer's wheel", [str(py), "-m", "pip", "install", "-q", "--no-deps", str(wheel)])
        marker.write_text(wheel.name)
    app = PEER_DIR / "app"
    app.mkdir(exist_ok=True)
    (app / "peer_settings.py").write_text(PEER_SETTINGS.format(db=str(PEER_DIR / "crm.sqlite3")))
    return wheel.name


def ensure_loaded(customers: int, say=print) -> dict:
    """A fresh peer database (``setupdata``) holding Yixiang's data set; kept per scale."""
    marker = PEER_DIR / f"loaded-{customers}.json"
    if marker.exists():
        return json.loads(marker.read_text())
    from yixiang.customers.models import Customer

    rows = PEER_DIR / "rows.jsonl"
    say(f"peer: exporting {customers:,} customers for it …")
    with open(rows, "w", encoding="utf-8") as fh:
        qs = Customer.objects.filter(deleted_at__isnull=True).select_related("owner").order_by("pk")
        for c in qs.iterator(chunk_size=5000):
            owner = c.owner.username if c.owner_id else None
            row = {
                "id": c.pk,
                "name": c.name,
                "phone": c.phone,
                "city": c.city,
                "owner": owner,
                "tracked": bool(owner and 0 <= c.stage <= 4),
                "stage": c.stage,
                "next_due_on": c.next_due_on.isoformat() if c.next_due_on else None,
            }
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    for old in PEER_DIR.glob("crm.sqlite3*"):
        old.unlink()
    for old in PEER_DIR.glob("loaded-*.json"):
        old.unlink()
    say("peer: setupdata (its migrate and fixtures) …")
    _run("the peer's setupdata", [str(_python()), "-m", "django", "setupdata"], cwd=PEER_DIR / "app", env=_env())
    say("peer: loading companies, contacts, requests and deals …")
    started = time.perf_counter()
    # A copy beside its settings: run from bench/, bench/http.py would shadow the standard library.
    loader = PEER_DIR / "app" / "peer_load.py"
    shutil.copyfile(Path(__file__).with_name("peer_load.py"), loader)
    out = _run(
        "loading the data set into the peer",
        [str(_python()), str(loader), str(rows)],
        cwd=PEER_DIR / "app",
        env=_env(),
    )
    facts = json.loads(out.strip().splitlines()[-1]) | {"load_seconds": round(time.perf_counter() - started, 1)}
    marker.write_text(json.dumps(facts))
    rows.unlink(missing_ok=True)
    return facts


_SESSION_SCRIPT = """
import json, sys, django
django.setup()
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from crm.models import Company, Deal
ids = json.loads(sys.argv[2])
c = Client()
c.force_login(User.objects.get(username=sys.argv[1]))
comp = dict(Company.objects.filter(email__in=[f"c{i}@example.com" for i in ids]).values_list("email", "pk"))
companies = {i: comp.get(f"c{i}@example.com") for i in ids}
deals = dict(Deal.objects.filter(company_id__in=[v for v in companies.values() if v]).values_list("company_id", "pk"))
print(json.dumps({"cookie": f"{settings.SESSION_COOKIE_NAME}={c.cookies[settings.SESSION_COOKIE_NAME].value}",
                  "companies": companies, "deals": {i: deals.get(v) for i, v in companies.items()}}))
"""


def peer_session(username: str, customer_ids: list[int]) -> dict:
    out = _run(
        "logging in to the peer",
        [str(_python()), "-c", _SESSION_SCRIPT, username, json.dumps(customer_ids)],
        cwd=PEER_DIR / "app",
        env=_env(),
    )
    data = json.loads(out.strip().splitlines()[-1])
    data["companies"] = {int(k): v for k, v in data["companies"].items()}
    data["deals"] = {int(k): v for k, v in data["deals"].items()}
    return data


class PeerServer:
    """The peer behind gunicorn (same worker model as ``manage.py serve``), stopped with its group."""

    def __init__(self, port: int, workers: int, log: Path):
        self.port, self.workers, self.log = port, workers, log
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> PeerServer:
        cmd = [str(_python()), "-m", "gunicorn", "webcrm.wsgi:application", "--bind", f"127.0.0.1:{self.port}"]
        cmd += ["--workers", str(self.workers), "--worker-class", "gthread", "--threads", "4"]
        cmd += ["--access-logfile", "/dev/null"]
        out = open(self.log, "ab")  # noqa: SIM115 (closed with the process)
        self.proc = subprocess.Popen(
            cmd, cwd=PEER_DIR / "app", env=_env(), stdout=out, stderr=out, start_new_session=True
        )
        out.close()
        return self

    def __exit__(self, *exc) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)  # the group this benchmark started
            self.proc.wait(timeout=10)


# --- A browser-like client: keep-alive, cookies, forms ---------------------------------------------------


class Browser:
    def __init__(
        self,
        port: int,
        cookie: str,
        server_pid: int,
        *,
        headers: dict[str, str] | None = None,
        cpu_seconds: Callable[[int], float] | None = None,
    ):
        from bench.capacity import _cpu_seconds

        self.port = port
        self.cookies: dict[str, str] = dict([cookie.split("=", 1)]) if cookie else {}
        self.server_pid = server_pid
        self.headers = headers or {}  # e.g. a Bearer token for the API
        self.cpu_seconds = cpu_seconds or _cpu_seconds
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(
        self, method: str, path: str, body: dict | list | None = None, *, json_body: dict | None = None
    ) -> tuple[int, str, float, float]:
        """Status, body, wall seconds, server CPU seconds of one request."""
        _cpu_seconds = self.cpu_seconds
        headers = {**self.headers}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if json_body is not None:
            data = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        elif body is not None:
            data = urllib.parse.urlencode([tuple(f) for f in body] if isinstance(body, list) else body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://127.0.0.1:{self.port}{path}"
        cpu0 = _cpu_seconds(self.server_pid)
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=data, headers=headers)
            resp = self.conn.getresponse()
        except (http.client.HTTPException, OSError):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            self.conn.request(method, path, body=data, headers=headers)
            resp = self.conn.getresponse()
        text = resp.read().decode("utf-8", "replace")
        wall = time.perf_counter() - started
        cpu = _cpu_seconds(self.server_pid) - cpu0
        for raw in resp.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(raw)
            for k, morsel in jar.items():
                self.cookies[k] = morsel.value
        return resp.status, text, wall, cpu


class _Form(html.parser.HTMLParser):
    """The fields of each POST form on a page, as a browser would submit them."""

    def __init__(self):
        super().__init__()
        self.depth = 0
        self.done = False
        self.forms: list[list[list[str]]] = []
        self.fields: list[list[str]] = []
        self._select: str | None = None
        self._select_first: str | None = None
        self._select_chosen = False
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if self.done:
            return
        if tag == "form" and (a.get("method") or "").lower() == "post" and not self.depth:
            self.depth, self.fields = 1, []
            return
        if not self.depth:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            self.fields.append([name, a.get("value") or ("on" if kind == "checkbox" else "")])
        elif tag == "select" and name:
            self._select, self._select_first, self._select_chosen = name, None, False
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if self._select_first is None:
                self._select_first = value
            if "selected" in a:
                self.fields.append([self._select, value])
                self._select_chosen = True
        elif tag == "textarea" and name:
            self._textarea, self._text = name, ""

    def handle_data(self, data):
        if self._textarea:
            self._text += data

    def handle_endtag(self, tag):
        if not self.depth or self.done:
            return
        if tag == "select" and self._select:
            if not self._select_chosen and self._select_first is not None:
                self.fields.append([self._select, self._select_first])
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.fields.append([self._textarea, self._text.lstrip("\n")])
            self._textarea = None
        elif tag == "form":
            self.forms.append(self.fields)
            self.depth = 0


def form_fields(page: str, field: str) -> list[list[str]]:
    """The POST form that has ``field`` (a page also holds e.g. the logout form)."""
    p = _Form()
    p.feed(page)
    for fields in p.forms:
        names = {k for k, _ in fields}
        if "csrfmiddlewaretoken" in names and field in names:
            return fields
    raise PeerFailed(f"no POST form with a CSRF token and a {field!r} field on the page")


def with_value(fields: list[list[str]], name: str, value: str) -> list[list[str]]:
    out = [f for f in fields if f[0] != name]
    return [*out, [name, value]]


def customer_page_paths(pk: int, signed: bool) -> list[str]:
    """A customer page as a browser loads it: the page and its pipeline panel, and the after-sale
    panel only for a signed customer (customers/detail.html)."""
    paths = [f"/customers/{pk}/", f"/customers/{pk}/pipeline/panel/"]
    return [*paths, f"/customers/{pk}/aftercare/panel/"] if signed else paths


def save_followup_form(browser: Browser, pk: int, values: dict[str, str]) -> tuple[float, float]:
    """Open Yixiang's follow-up form and submit it as a browser would (all its fields and the CSRF
    token) with ``values`` set; only the POST is timed, and it must redirect (saved)."""
    _, page, _, _ = browser.request("GET", f"/customers/{pk}/follow-up/")
    fields = form_fields(page, "summary")
    for name, value in values.items():
        fields = with_value(fields, name, value)
    status, text, wall, cpu = browser.request("POST", f"/customers/{pk}/follow-up/", fields)
    if status != 302:
        raise PeerFailed(f"Yixiang's follow-up form did not save ({status}): {_errors(text)}")
    return wall, cpu


# --- The comparison -----------------------------------------------------------------------------------

PAIRS = (
    ("agenda", "agenda vs its deals list"),
    ("list", "customer list vs companies list"),
    ("search", "name search vs companies search"),
    ("record", "customer page (+ its panels) vs company page"),
    ("write", "follow-up save vs deal update (form POST)"),
)


def compare(
    *,
    rep,
    customer_ids: list[int],
    search_names: list[str],
    runs: int,
    log_dir: Path,
    say=print,
    signed_ids: frozenset[int] | set[int] = frozenset(),
) -> dict:
    """Time each pair ``runs`` times, interleaved; medians, p95, CPU, ratios (peer / Yixiang)."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from bench.http import Server, free_port
    from bench.measure import summary

    client = Client()
    client.force_login(rep)
    y_cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    peer = peer_session(rep.username, customer_ids)
    ids = [i for i in customer_ids if peer["companies"].get(i) and peer["deals"].get(i)]
    if not ids:
        raise PeerFailed(f"the peer has no company with a deal for {rep.username}'s customers")
    connection.close()
    workers = os.cpu_count() or 2
    samples: dict[str, dict[str, list[float]]] = {k: {"y": [], "p": [], "yc": [], "pc": []} for k, _ in PAIRS}
    with (
        Server(workers, log_dir / "bench-serve.log") as ys,
        PeerServer(free_port(), workers, log_dir / "peer-serve.log") as ps,
    ):
        ys.wait_ready("/agenda/", {"Cookie": y_cookie})
        _wait_peer(ps, peer["cookie"])
        yb, pb = Browser(ys.port, y_cookie, ys.proc.pid), Browser(ps.port, peer["cookie"], ps.proc.pid)

        def get(b: Browser, path: str) -> tuple[float, float]:
            status, text, wall, cpu = b.request("GET", path)
            if status != 200:
                raise PeerFailed(f"GET {path} gave {status}: {text[:300]!r}")
            return wall, cpu

        def y_call(kind: str, i: int) -> tuple[float, float]:
            pk = ids[i % len(ids)]
            if kind == "agenda":
                return get(yb, "/agenda/")
            if kind == "list":
                return get(yb, "/customers/")
            if kind == "search":
                return get(yb, "/customers/?" + urllib.parse.urlencode({"q": search_names[i % len(search_names)]}))
            if kind == "record":
                parts = [get(yb, p) for p in customer_page_paths(pk, pk in signed_ids)]
                return sum(w for w, _ in parts), sum(c for _, c in parts)
            return save_followup_form(yb, pk, {"summary": f"客户问效果怎么样，约了下周再聊。#{i}"})

        def p_call(kind: str, i: int) -> tuple[float, float]:
            pk = ids[i % len(ids)]
            if kind == "agenda":
                return get(pb, f"{CRM}/deal/")
            if kind == "list":
                return get(pb, f"{CRM}/company/")
            if kind == "search":
                return get(pb, f"{CRM}/company/?" + urllib.parse.urlencode({"q": search_names[i % len(search_names)]}))
            if kind == "record":
                return get(pb, f"{CRM}/company/{peer['companies'][pk]}/change/")
            deal = peer["deals"][pk]
            status, page, _, _ = pb.request("GET", f"{CRM}/deal/{deal}/change/")
            fields = with_value(form_fields(page, "next_step"), "next_step", f"电话跟进 #{i}")
            status, text, wall, cpu = pb.request("POST", f"{CRM}/deal/{deal}/change/", [*fields, ["_save", "Save"]])
            if status != 302:
                raise PeerFailed(f"DjangoCRM's deal form did not save ({status}): {_errors(text)}")
            return wall, cpu

        for kind, _ in PAIRS:  # warm-up: templates, caches, first connections
            for i in range(2):
                y_call(kind, i)
                p_call(kind, i)
        for i in range(runs):
            for kind, _ in PAIRS:
                order = (("y", y_call), ("p", p_call)) if i % 2 == 0 else (("p", p_call), ("y", y_call))
                for who, call in order:
                    wall, cpu = call(kind, i)
                    samples[kind][who].append(wall * 1000)
                    samples[kind][who + "c"].append(cpu * 1000)
    out = {}
    for kind, title in PAIRS:
        s = samples[kind]
        y, p = summary(s["y"]), summary(s["p"])
        yc, pc = summary(s["yc"]), summary(s["pc"])
        out[kind] = {
            "title": title,
            "yixiang_ms": {"median": round(y["median"], 1), "p95": round(y["p95"], 1)},
            "peer_ms": {"median": round(p["median"], 1), "p95": round(p["p95"], 1)},
            # CPU times come in 10 ms clock ticks: the mean over the runs, not the median.
            "yixiang_cpu_ms": round(yc["mean"], 1),
            "peer_cpu_ms": round(pc["mean"], 1),
            "ratio": round(p["median"] / y["median"], 1) if y["median"] else None,
            "cpu_ratio": round(pc["mean"] / yc["mean"], 1) if yc["mean"] else None,
        }
        say(
            f"  {title:<46} Yixiang {y['median']:7.1f} ms (cpu {yc['mean']:5.1f})  DjangoCRM {p['median']:7.1f} ms "
            f"(cpu {pc['mean']:5.1f})  → {out[kind]['ratio']}× wall, {out[kind]['cpu_ratio']}× CPU"
        )
    return out


def _wait_peer(server: PeerServer, cookie: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise PeerFailed(f"the peer's gunicorn exited; see {server.log}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            conn.request("GET", f"{CRM}/deal/", headers={"Cookie": cookie})
            resp = conn.getresponse()
            resp.read()
            if resp.status == 200:
                return
            if resp.status >= 400 or resp.status in (301, 302):
                raise PeerFailed(
                    f"the peer answered {resp.status} for {CRM}/deal/ (location {resp.getheader('Location')})"
                )
        except (ConnectionError, OSError, http.client.HTTPException):
            time.sleep(0.5)
    raise PeerFailed(f"the peer did not answer within {timeout:.0f} s; see {server.log}")


def _errors(page: str) -> str:
    found = re.findall(r'class="[^"]*error[^"]*"[^>]*>(.*?)</', page, re.S)
    return "; ".join(re.sub(r"<[^>]+>", " ", f).strip() for f in found[:5])[:500] or page[:300]
