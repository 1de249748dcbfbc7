"""The care calendar as a month grid as well as the list: names link to the customer, and a
company's yearly day is its founding day (成立日), not a birthday."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from yixiang.aftercare import services
from yixiang.aftercare.models import CareTask

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _next_month_first(today: dt.date) -> dt.date:
    return (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def test_month_view_puts_occasions_on_their_day_with_links(org):
    nxt = _next_month_first(timezone.localdate())
    person = org.customer(org.rep, "李四", birth_date=dt.date(1985, nxt.month, 10))
    c = _client(org.rep)
    html = c.get(reverse("care") + f"?view=month&month={nxt:%Y-%m}").content.decode()
    assert 'id="care-month"' in html and f'data-month="{nxt:%Y-%m}"' in html
    cell = html.split(f'data-day="{nxt.replace(day=10):%Y-%m-%d}"')[1].split("</ul>")[0]
    assert f'href="/customers/{person.pk}/"' in cell and "李四" in cell and "生日" in cell
    # Prev / next month links walk the calendar.
    assert f"month={_next_month_first(nxt):%Y-%m}" in html
    assert f"month={timezone.localdate():%Y-%m}" in html
    # The 30-day list is the default and links names too.
    assert 'id="care-month"' not in c.get(reverse("care")).content.decode()


def test_list_view_links_customer_names(org):
    soon = timezone.localdate() + dt.timedelta(days=3)
    person = org.customer(org.rep, "王五", birth_date=dt.date(1980, soon.month, soon.day))
    html = _client(org.rep).get(reverse("care")).content.decode()
    table = html.split('id="care-calendar"')[1]
    assert f'<a href="/customers/{person.pk}/">王五</a>' in table


def test_a_company_gets_a_founding_day_not_a_birthday(org):
    soon = timezone.localdate() + dt.timedelta(days=3)
    company = org.customer(
        org.rep, "上海刘鑫实业有限公司", kind="company", birth_date=dt.date(2010, soon.month, soon.day)
    )
    html = _client(org.rep).get(reverse("care")).content.decode()
    row = next(r for r in html.split("<tr>") if "上海刘鑫实业有限公司" in r)
    assert "成立日" in row and "生日" not in row
    # The care task the daily job makes says so too.
    services.care_calendar_generate(today=soon - dt.timedelta(days=1))
    task = CareTask.objects.get(customer=company, kind="birthday")
    assert "成立日" in task.title and "生日" not in task.title and "成立周年" in task.suggestion
    row = _client(org.rep).get(reverse("care")).content.decode().split(f'id="task-{task.pk}"')[1].split("</tr>")[0]
    assert '<span class="tag">成立日</span>' in row and f'href="/customers/{company.pk}/"' in row


def test_a_bad_month_falls_back_to_this_month(org):
    html = _client(org.rep).get(reverse("care") + "?view=month&month=2026-13").content.decode()
    assert f'data-month="{timezone.localdate():%Y-%m}"' in html
