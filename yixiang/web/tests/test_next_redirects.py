"""Issue 12, defect 9: a ``next=`` parameter is followed only into this site, through one helper."""

from __future__ import annotations

import datetime as dt
import pathlib
import re

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from yixiang.aftercare import services
from yixiang.aftercare.models import CareTask
from yixiang.aftercare.tests.factories import sign
from yixiang.redirects import safe_next
from yixiang.testing import PASSWORD

OFF_SITE = ["https://evil.example/phish", "//evil.example/x", "javascript:alert(1)", "https:///evil.example"]


@pytest.mark.parametrize("target", OFF_SITE)
def test_the_helper_refuses_off_site_targets(target):
    request = RequestFactory().post("/x/", {"next": target})
    assert safe_next(request, "/home/") == "/home/"


def test_the_helper_follows_a_local_target():
    assert safe_next(RequestFactory().get("/x/", {"next": "/care/?day=1"}), "/home/") == "/care/?day=1"


@pytest.mark.parametrize("target", OFF_SITE[:2])
def test_care_task_done_does_not_follow_an_off_site_next(org, target):
    customer = sign(org.customer(org.rep, "跳转客户", phone="13800138111", birth_date=dt.date(1990, 10, 3)))
    services.tasks_create(
        [
            CareTask(
                kind="birthday",
                customer=customer,
                rep=org.rep,
                due_on=timezone.localdate(),
                title="t",
                suggestion="s",
                source_key="redirect",
            )
        ]  # fmt: skip
    )
    c = Client()
    assert c.login(username=org.rep.username, password=PASSWORD)
    task = CareTask.objects.get()
    r = c.post(reverse("care_task_done", args=[task.pk]), {"outcome": "ok", "next": target})
    assert r.status_code == 302
    assert r["Location"] == reverse("care")
    r = c.post(reverse("care_task_done", args=[task.pk]), {"reopen": "1", "next": "/care/?x=1"})
    assert r["Location"] == "/care/?x=1"


def test_no_view_reads_next_by_itself():
    """The guard: every view follows ``next`` through yixiang.redirects.safe_next, none reads it directly."""
    root = pathlib.Path(__file__).resolve().parents[2]
    pattern = re.compile(r"""\.get\(\s*["']next["']""")
    offenders = [
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if "tests" not in p.parts and p.name != "redirects.py" and pattern.search(p.read_text(encoding="utf-8"))
    ]
    assert offenders == []
