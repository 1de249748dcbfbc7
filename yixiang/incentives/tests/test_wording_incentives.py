"""Incentive pages as a Chinese reader sees them (issue 14): each reason once, reps titled as reps,
no English note, units on the cost cap, no Django "---------" placeholders."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse

from yixiang.incentives.tests.factories import assess, developed
from yixiang.testing import PASSWORD

APR = dt.date(2011, 4, 1)


def client_for(user) -> Client:
    c = Client()
    assert c.login(username=user.username, password=PASSWORD)
    return c


@pytest.fixture
def april(inc):
    assess(inc.rep, APR, 2, pay=3000)
    developed(inc, inc.rep, 8000, dt.date(2011, 4, 2), name="甲客户")
    developed(inc, inc.rep, 8000, dt.date(2011, 4, 3), name="乙客户")
    developed(inc, inc.rep, 60000, dt.date(2011, 4, 4), name="丙客户")
    return inc


def test_statement_reasons_are_printed_once_and_a_rep_is_not_called_a_manager(april):
    html = client_for(april.director).get(reverse("incentive_statements"), {"month": "2011-04"}).content.decode()
    assert "商务（按区域经理标准考核）" in html
    assert "· 区域经理<" not in html
    reasons = re.findall(r"(计为 \d+ 个有效客户[^<]*|超出临界线[^<]*)", html)
    assert reasons
    for reason in reasons:
        assert reason.count("有效客户") <= 1 and reason.count("超出临界线") <= 1, reason


def test_scheme_pages_are_chinese_with_units(inc):
    html = client_for(inc.admin).get(reverse("incentive_versions")).content.decode()
    assert "The 2011 numbers" not in html
    assert (
        "沿用2011年度标准" in html
    )  # the seeded note is Chinese (the monthly cost cap is gone: rewards are always paid)
    edit = client_for(inc.admin).get(reverse("incentive_version_create")).content.decode()
    for help_text in ("每条临界线一行：临界线: 完成0个的扣款", "每条临界线一行：临界线: 打款坎级=奖励"):
        assert edit.count(help_text) == 1


def test_no_django_dash_placeholders_in_incentive_forms(inc):
    for name in ("incentive_assessments", "incentive_developed"):
        html = client_for(inc.admin).get(reverse(name)).content.decode()
        assert "---------" not in html, name
        assert "请选择…" in html, name
