#!/usr/bin/env python
"""Regenerate the README's screenshots from the demo data, so they stay current.

    .venv/bin/python scripts/screenshots.py [--out docs/screens] [--only agenda,statements]

Starts the app on a fresh demo company in a temporary data folder (migrate, seed_demo,
collectstatic, `manage.py serve` on a free port), logs in as each role with Playwright driving
Debian's chromium (/usr/bin/chromium) and saves every screen at desktop (1280) and phone (390)
width as docs/screens/<screen>-<desktop|phone>.png. Nothing outside the temporary folder is touched
but the output folder."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "yixiang-demo"  # noqa: S105 (the documented demo password)
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


def _first_link(page, pattern: str) -> str:
    """The first link on the current page whose path matches ``pattern`` (a JS regex). The plain
    "/customers/…/" selector took the top bar's "/customers/" link: the shot showed the list."""
    href = page.eval_on_selector_all(
        "a[href]", "(els, p) => els.map(e => e.getAttribute('href')).find(h => new RegExp(p).test(h))", pattern
    )
    if not href:
        raise SystemExit(f"no link matching {pattern} on {page.url}")
    return href


def _first_customer(page) -> str:
    """The first customer of the agenda's cards: the customer page a rep opens first."""
    page.goto("/agenda/")
    return _first_link(page, r"^/customers/\d+/$")


def _first_mismatches(page) -> str:
    """The judgments without evidence of the first member of the last 30 days' team review who
    has any (the first row is often the lead, who judges nobody)."""
    today = dt.datetime.now(tz=ZoneInfo("Asia/Shanghai")).date()  # the demo's time zone
    since = (today - dt.timedelta(days=29)).isoformat()
    page.goto(f"/team/review/?from={since}")
    link = page.locator("a.fig-mismatch:has(.chip-danger)").first
    if link.count():
        return link.get_attribute("href") or ""
    return _first_link(page, r"^/team/review/\d+/mismatches/")


# (screen, user, path or a function of the logged-in page giving the path)
SCREENS = [
    ("agenda", "rep1", "/agenda/"),
    ("customer", "rep1", _first_customer),
    ("lead-home", "lead1", "/"),
    ("team-review", "lead1", "/team/review/"),
    ("recycle-proposals", "lead1", "/team/recycle-proposals/"),
    ("mismatches", "lead1", _first_mismatches),
    ("director-home", "director", "/"),
    ("statements", "director", "/incentives/"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)  # noqa: S603


def _wait(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310 (our own local server)
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the app did not answer at {url}")


def shoot(base: str, out: Path, only: set[str]) -> list[Path]:
    from playwright.sync_api import sync_playwright

    saved = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        for form, (width, height) in WIDTHS.items():
            sessions: dict[str, object] = {}
            for name, username, where in SCREENS:
                if only and name not in only:
                    continue
                if username not in sessions:
                    ctx = browser.new_context(
                        base_url=base,
                        locale="zh-CN",
                        viewport={"width": width, "height": height},
                        device_scale_factor=1,
                    )
                    page = ctx.new_page()
                    page.goto("/login/")
                    page.fill("input[name=username]", username)
                    page.fill("input[name=password]", PASSWORD)
                    page.click("button[type=submit]")
                    page.wait_for_load_state()
                    sessions[username] = page
                page = sessions[username]
                path = where(page) if callable(where) else where
                page.goto(path)
                page.wait_for_load_state("networkidle")
                target = out / f"{name}-{form}.png"
                # The phone shot is what the phone shows (one screen); the desktop one the whole page.
                page.screenshot(path=str(target), full_page=form == "desktop")
                saved.append(target)
                print(f"saved {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}")
        browser.close()
    return saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screens"))
    parser.add_argument("--only", default="", help="comma-separated screen names")
    args = parser.parse_args()
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="yixiang-screens-") as data:
        env = {**os.environ, "YIXIANG_DATA_DIR": data, "PYTHONPATH": str(ROOT)}
        env.pop("DATABASE_URL", None)  # always the embedded SQLite of the temporary folder
        _manage(env, "migrate", "-v0")
        _manage(env, "seed_demo")
        _manage(env, "collectstatic", "--noinput", "-v0")
        server = subprocess.Popen(  # noqa: S603
            [sys.executable, "manage.py", "serve", "--port", str(port), "--workers", "1", "--no-worker"],
            cwd=ROOT,
            env=env,
        )
        try:
            _wait(f"http://127.0.0.1:{port}/login/")
            shoot(f"http://127.0.0.1:{port}", out, {s for s in args.only.split(",") if s})
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
