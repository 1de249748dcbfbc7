"""Words the newcomer review found wrong (issue 14): admin section names, "已新建" not "创建时间",
"筛选" not "过滤器", no "---------" placeholders."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import pgettext

from yixiang.pipeline.models import OwnerChange
from yixiang.testing import PASSWORD

pytestmark = pytest.mark.django_db


def test_admin_sections_are_chinese(org):
    c = Client()
    assert c.login(username=org.admin.username, password=PASSWORD)
    html = c.get("/admin/").content.decode()
    for name in ("员工与团队", "客户档案", "登录保护", "登录尝试", "登录失败"):
        assert name in html, name
    for english in (">Accounts<", ">Axes<", ">Customers<", "Access attempts", "Access failures"):
        assert english not in html, english


def test_labels_that_say_what_happened():
    with translation.override("zh-hans"):
        assert pgettext("import result: customers created", "Created") == "已新建"
        assert str(OwnerChange.Reason.CREATED.label) == "新建客户"
        assert pgettext("button", "Filter") == "筛选"
        assert translation.gettext("Created") == "创建时间"  # the date label keeps its meaning
    with translation.override("en"):
        assert str(OwnerChange.Reason.CREATED.label) == "Created"


def test_care_filter_button_and_followup_form_speak_plainly(org):
    customer = org.customer(org.rep, "李四")
    c = Client()
    assert c.login(username=org.rep.username, password=PASSWORD)
    care = c.get(reverse("care")).content.decode()
    assert "筛选" in care and "过滤器" not in care
    form = c.get(reverse("followup_create", args=[customer.pk])).content.decode()
    assert "---------" not in form
