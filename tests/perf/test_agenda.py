"""The agenda (issue 7's hot read): its exact query budget with every list it shows filled, over the
API and as the web page. test_hot_pages.py checks the counts stay flat as rows grow; this pins them.

API: the token (with its user and team) + due customers + visits + care + balance + proposals +
the items' last notes.
Page: the session + its user + the same five + the statutory calendar's known years + the cards'
last notes (one query for all cards)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from yixiang.aftercare.models import CareTask
from yixiang.pipeline import services
from yixiang.pipeline.models import ReleaseProposal
from yixiang.pipeline.tests.factories import set_state
from yixiang.testing import ApiClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def full_agenda(org):
    today = timezone.localdate()
    for n in range(6):
        c = set_state(org.customer(org.rep, name=f"客户{n}"), stage=n % 5, next_due_on=today - dt.timedelta(days=n))
        services.followup_log(actor=org.rep, customer=c, effective=False, summary="没接")
        set_state(c, next_due_on=today - dt.timedelta(days=n))
        at = timezone.localtime().replace(hour=23, minute=0)
        services.visit_plan_create(actor=org.rep, customer=c, at=at, place="公司", purpose="面谈")
        CareTask.objects.create(
            kind="birthday", customer=c, rep=org.rep, due_on=today, title="生日", source_key=f"k{n}"
        )
        ReleaseProposal.objects.create(customer=c, owner=org.rep, reason="no_rise", contacts=7)
    return org


def count(fn) -> tuple[int, object]:
    fn()  # warm-up: the token's last-used touch, the session
    with CaptureQueriesContext(connection) as ctx:
        resp = fn()
    assert resp.status_code == 200, resp.content[:300]
    return len(ctx.captured_queries), resp


def test_agenda_api_runs_eight_queries(full_agenda):
    api = ApiClient(full_agenda.rep)
    n, resp = count(lambda: api.get("/api/v1/agenda"))
    body = resp.json()
    assert (len(body["items"]), len(body["visits"]), len(body["care"]), len(body["proposals"])) == (6, 6, 6, 6)
    assert all(i["last_note"] == "没接" for i in body["items"])
    # One of them: the open complaints, disputes and suggestions (issue 15); one: every item's
    # last note. The stage guides (include=guide) are the playbook's: no query more.
    assert n == 8
    n, resp = count(lambda: api.get("/api/v1/agenda", include="guide"))
    assert n == 8 and all(i["guide"]["questions"] for i in resp.json()["items"] if i["stage"] in (0, 2, 3, 4))


def test_agenda_page_runs_ten_queries(full_agenda):
    web = Client()
    web.force_login(full_agenda.rep)
    n, resp = count(lambda: web.get("/agenda/"))
    html = resp.content.decode()
    assert html.count("客户5") >= 3  # an item, its visit, its care task and its proposal are shown
    assert "没接" in html  # each card shows its last note
    # the API's seven lists (open complaints among them), which years the holiday calendar knows
    # (the weekends-assumed note), the cards' last notes (one query for all cards), session and user
    assert n == 10
