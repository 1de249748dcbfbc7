"""Locust load model of a working day in a sales office (issue 17's capacity figure).

Run by ``bench.capacity`` (headless, one locust run per user count); it reads the accounts it may
use from the JSON file named by ``BENCH_LOCUST_USERS``: real bench users (reps, team leads,
directors) with a logged-in web session, an API token, and for reps the customers they work on and
search keys taken from real names and numbers.

Who does what (weights are per user; think time between actions ``BENCH_THINK`` seconds, default
"3,12"):

- a rep (the bulk): opens the agenda, opens a customer (the page and the panels it loads: the after-sale one for a signed customer),
  searches by pinyin initials or phone digits, opens the customer list, logs a call (opens the
  follow-up form, then POSTs the follow-up through the API with their token);
- a team lead: opens the team review (this week), the customer list;
- a director: opens the pipeline report and the activity report, the region's team review.

A request counts as failed unless it answers 200 (201 for the follow-up) without a redirect: a lost
session would redirect to the login page, which must not pass for a fast success.
"""

from __future__ import annotations

import itertools
import json
import os
import random
from pathlib import Path

from locust import FastHttpUser, between, task

_DATA = json.loads(Path(os.environ["BENCH_LOCUST_USERS"]).read_text())
_THINK = [float(x) for x in os.environ.get("BENCH_THINK", "3,12").split(",")]
_SEQ = {role: itertools.count() for role in ("rep", "lead", "director")}
_SUMMARY = "客户问效果怎么样，和同行比较了一下，约了下周再聊。"


class _Office(FastHttpUser):
    abstract = True
    role = ""
    wait_time = between(*_THINK)

    def on_start(self) -> None:
        accounts = _DATA[self.role]
        # More virtual users than accounts (100 reps at 100k customers): several sessions of one
        # account, as a rep with two tabs or two devices.
        self.account = accounts[next(_SEQ[self.role]) % len(accounts)]
        self.web = {"Cookie": self.account["cookie"]}
        self.api = {"Authorization": f"Bearer {self.account['token']}"}
        self.signed = set(self.account.get("signed", ()))
        self.rnd = random.Random()  # noqa: S311 (load model, not security)

    def page(self, path: str, name: str, headers: dict | None = None) -> None:
        with self.client.get(
            path, headers=headers or self.web, name=name, allow_redirects=False, catch_response=True
        ) as resp:
            if resp.status_code != 200:
                resp.failure(f"{resp.status_code} for {path}")


class Rep(_Office):
    role = "rep"
    weight = int(os.environ.get("BENCH_WEIGHT_REP", "100"))

    @task(4)
    def agenda(self) -> None:
        self.page("/agenda/", "agenda")

    @task(4)
    def customer(self) -> None:
        pk = self.rnd.choice(self.account["customers"])
        self.page(f"/customers/{pk}/", "customer page")
        self.page(f"/customers/{pk}/pipeline/panel/", "customer page: pipeline panel")
        if pk in self.signed:  # the page loads the after-sale panel only for a signed customer
            self.page(f"/customers/{pk}/aftercare/panel/", "customer page: after-sale panel")

    @task(2)
    def search(self) -> None:
        self.page(f"/customers/?q={self.rnd.choice(self.account['search'])}", "search")

    @task(1)
    def customer_list(self) -> None:
        self.page("/customers/", "customer list")

    @task(2)
    def log_call(self) -> None:
        pk = self.rnd.choice(self.account["log_on"])
        self.page(f"/customers/{pk}/follow-up/", "follow-up form")
        body = {"channel": "phone", "duration_minutes": self.rnd.randint(1, 15), "summary": _SUMMARY}
        with self.client.post(
            f"/api/v1/customers/{pk}/follow-ups", json=body, headers=self.api, name="follow-up save (API)",
            catch_response=True,
        ) as resp:  # fmt: skip
            if resp.status_code != 201:
                resp.failure(f"{resp.status_code}: {resp.text[:200]}")


class Lead(_Office):
    role = "lead"
    weight = int(os.environ.get("BENCH_WEIGHT_LEAD", "10"))

    @task(3)
    def review(self) -> None:
        self.page("/team/review/", "team review")

    @task(1)
    def customer_list(self) -> None:
        self.page("/customers/", "customer list")


class Director(_Office):
    role = "director"
    weight = int(os.environ.get("BENCH_WEIGHT_DIRECTOR", "1"))

    @task(3)
    def pipeline_report(self) -> None:
        self.page("/reports/", "pipeline report")

    @task(1)
    def activity_report(self) -> None:
        self.page("/reports/activity/", "activity report")

    @task(1)
    def review(self) -> None:
        self.page("/team/review/", "team review")
