"""The incentive pages, the .xlsx export and the management command, with who must not get in."""

from __future__ import annotations

import datetime as dt
import json
from io import BytesIO, StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from yixiang.accounts.models import AuditEvent
from yixiang.incentives.models import Assessment, DevelopedCustomer, MonthClose, SchemeVersion
from yixiang.incentives.tests.factories import assess, developed
from yixiang.testing import PASSWORD

APR = dt.date(2011, 4, 1)


@pytest.fixture
def april(inc):
    for user in (inc.rep, inc.teammate, inc.outsider):
        assess(user, APR, 2, pay=3000)
    developed(inc, inc.rep, 8000, dt.date(2011, 4, 2), name="甲客户")
    developed(inc, inc.rep, 8000, dt.date(2011, 4, 3), name="乙客户")
    developed(inc, inc.rep, 60000, dt.date(2011, 4, 4), name="丙客户")
    developed(inc, inc.teammate, 9000, dt.date(2011, 4, 5), name="队友客户")
    return inc


def client_for(user) -> Client:
    c = Client()
    assert c.login(username=user.username, password=PASSWORD)
    return c


def page(user, name: str = "incentive_statements", month: str = "2011-04", **kw):
    return client_for(user).get(reverse(name, **kw), {"month": month})


# --- Statements page -------------------------------------------------------------------------------------


def test_the_statements_page_shows_the_readers_statement_only(april):
    body = page(april.rep).content.decode()
    assert 'data-user="rep"' in body and "丙客户" in body
    assert 'data-total="1000"' in body
    assert 'data-user="teammate"' not in body and "队友客户" not in body
    assert 'data-user="outsider"' not in body
    assert 'id="funding"' not in body and 'id="close-form"' not in body  # company-wide figures: admins only


def test_a_lead_sees_the_team_and_a_director_the_region_on_the_page(april):
    lead = page(april.lead1).content.decode()
    assert 'data-user="rep"' in lead and 'data-user="teammate"' in lead and 'data-user="outsider"' not in lead
    south = page(april.south_director).content.decode()
    assert 'data-user="outsider"' in south and 'data-user="rep"' not in south


def test_the_admin_sees_funding_and_closes_the_month_from_the_page(april):
    admin = client_for(april.admin)
    body = admin.get(reverse("incentive_statements"), {"month": "2011-04"}).content.decode()
    assert 'id="funding"' in body and 'id="close-form"' in body
    resp = admin.post(reverse("incentive_month_close"), {"month": "2011-04"}, follow=True)
    assert MonthClose.objects.filter(month=APR).exists()
    assert 'id="month-state"' in resp.content.decode() and 'id="close-form"' not in resp.content.decode()


def test_only_an_admin_may_close_a_month_from_the_page(april):
    assert client_for(april.director).post(reverse("incentive_month_close"), {"month": "2011-04"}).status_code == 404
    assert not MonthClose.objects.exists()


def test_the_page_says_when_no_scheme_is_in_force(inc):
    body = page(inc.rep, month="2010-05").content.decode()
    assert 'id="no-scheme"' in body


def test_htmx_month_switch_returns_the_partial(april):
    resp = client_for(april.rep).get(
        reverse("incentive_statements"), {"month": "2011-04"}, headers={"HX-Request": "true"}
    )
    body = resp.content.decode()
    assert 'data-user="rep"' in body and "<html" not in body


def test_pages_need_a_login(inc):
    resp = Client().get(reverse("incentive_statements"))
    assert resp.status_code == 302 and "/login/" in resp["Location"]


# --- The .xlsx export --------------------------------------------------------------------------------------


def _workbook(user):
    resp = page(user, "incentive_statements_xlsx")
    assert resp.status_code == 200
    assert resp["Content-Type"].startswith("application/vnd.openxmlformats")
    return load_workbook(BytesIO(resp.content))


def test_the_export_holds_the_statements_and_lines_in_scope(april):
    wb = _workbook(april.admin)
    summary, lines = wb.worksheets
    rows = {r[1]: r for r in summary.iter_rows(min_row=2, values_only=True)}
    assert rows["rep"][6] == 1000 and rows["teammate"][6] == -300 and "outsider" in rows
    rep_lines = [r for r in lines.iter_rows(min_row=2, values_only=True) if r[1] == "rep"]
    assert sum(r[5] for r in rep_lines) == 1000
    assert any(r[4] == "丙客户" and r[5] == 1000 for r in rep_lines)
    assert AuditEvent.objects.filter(action="incentive_statements_exported", actor=april.admin).exists()


def test_a_reps_export_holds_only_their_own_statement(april):
    wb = _workbook(april.rep)
    users = {r[1] for r in wb.worksheets[0].iter_rows(min_row=2, values_only=True)}
    assert users == {"rep"}
    assert all(r[1] == "rep" for r in wb.worksheets[1].iter_rows(min_row=2, values_only=True))


# --- Scheme versions ----------------------------------------------------------------------------------------


def test_everyone_reads_the_scheme_but_only_admins_edit_it(inc, seeded):
    version = seeded.first()
    body = client_for(inc.rep).get(reverse("incentive_versions")).content.decode()
    assert "7950" in body and "2: 800, 300" in body
    assert client_for(inc.rep).get(reverse("incentive_version_edit", args=[version.pk])).status_code == 404
    assert client_for(inc.director).get(reverse("incentive_version_create")).status_code == 404
    assert client_for(inc.admin).get(reverse("incentive_version_edit", args=[version.pk])).status_code == 200


def _version_post(version, **changes):
    data = {
        "name": version.name,
        "valid_from": version.valid_from.isoformat(),
        "valid_to": version.valid_to.isoformat() if version.valid_to else "",
        "valid_floor": version.valid_floor,
        "double_floor": version.double_floor,
        "default_threshold": version.default_threshold,
        "director_short": version.director_short,
        "director_over": version.director_over,
        "probation_factor": str(version.probation_factor),
        "min_days_on_staff": version.min_days_on_staff,
        "activity_window": version.activity_window,
        "activity_min_active": version.activity_min_active,
        "fraud_person": version.fraud_person,
        "fraud_director": version.fraud_director,
        "counted_categories_text": ", ".join(version.counted_categories),
        "opening_fund": version.opening_fund,
        "target_due_day": version.target_due_day,
        "target_due_time": "08:00",
        "note": version.note,
        "penalties_text": "2: 800, 300\n1: 500",
        "reward_steps_text": "2: 7950=300, 20000=500, 50000=1000\n1: 7950=200, 20000=400, 50000=700",
    }
    data.update(changes)
    return data


def test_an_admin_edits_a_version_in_the_form_and_the_month_follows(april, seeded):
    version = seeded.first()
    admin = client_for(april.admin)
    url = reverse("incentive_version_edit", args=[version.pk])
    resp = admin.post(url, _version_post(version, penalties_text="2: 1000, 400\n1: 500"))
    assert resp.status_code == 302, resp.content.decode()[:2000]
    version.refresh_from_db()
    assert version.penalties == {"2": [1000, 400], "1": [500]} and version.counted_categories == []
    teammate = page(april.admin).content.decode()
    assert 'data-user="teammate"' in teammate
    body = teammate.split('data-user="teammate"')[1]
    assert 'data-total="-400"' in body
    # Counting only 煎烤旺 and low-temperature products: the teammate's uncategorised payment no longer counts.
    changes = {"penalties_text": "2: 1000, 400\n1: 500", "counted_categories_text": "煎烤旺，低温产品"}
    assert admin.post(url, _version_post(version, **changes)).status_code == 302
    version.refresh_from_db()
    assert version.counted_categories == ["煎烤旺", "低温产品"]
    body = page(april.admin).content.decode().split('data-user="teammate"')[1]
    assert 'data-total="-1000"' in body


def test_a_bad_table_or_overlapping_dates_are_refused_in_the_form(inc, seeded):
    version = seeded.first()
    admin = client_for(inc.admin)
    url = reverse("incentive_version_edit", args=[version.pk])
    resp = admin.post(url, _version_post(version, penalties_text="2: 800"))
    assert resp.status_code == 200 and 'id="form-errors"' in resp.content.decode()
    resp = admin.post(reverse("incentive_version_create"), _version_post(version, name="重叠"))
    assert resp.status_code == 200 and "重叠" not in list(SchemeVersion.objects.values_list("name", flat=True))
    version.refresh_from_db()
    assert version.penalties == {"2": [800, 300], "1": [500]}


# --- Monthly inputs -------------------------------------------------------------------------------------------


def test_reps_and_leads_do_not_get_the_input_pages(inc):
    for user in (inc.rep, inc.lead1):
        assert page(user, "incentive_assessments").status_code == 404
        assert page(user, "incentive_developed").status_code == 404


def test_a_director_files_a_row_on_the_page(inc):
    director = client_for(inc.director)
    resp = director.post(
        reverse("incentive_assessments") + "?month=2011-04",
        {"month": "2011-04", "user": inc.rep.pk, "threshold": "1", "performance_pay": "900", "on_probation": "yes"},
    )
    assert resp.status_code == 302
    row = Assessment.objects.get(user=inc.rep, month=APR)
    assert (row.threshold, row.performance_pay, row.on_probation) == (1, 900, True)
    body = director.get(reverse("incentive_assessments"), {"month": "2011-04"}).content.decode()
    assert 'data-user="rep"' in body
    # Someone of another region is not among the choices.
    resp = director.post(
        reverse("incentive_assessments"), {"month": "2011-04", "user": inc.outsider.pk, "performance_pay": "1"}
    )
    assert resp.status_code == 200 and not Assessment.objects.filter(user=inc.outsider).exists()


def test_a_director_finds_developed_customers_and_records_one_by_hand(inc):
    from decimal import Decimal

    from yixiang.aftercare.models import Payment

    paid = inc.customer(inc.rep, "首付客户")
    Payment.objects.create(customer=paid, paid_on=dt.date(2011, 4, 8), amount=Decimal(9000))
    director = client_for(inc.director)
    director.post(reverse("incentive_developed"), {"month": "2011-04", "action": "derive"})
    assert DevelopedCustomer.objects.get().customer == paid
    by_hand = inc.customer(inc.teammate, "手工客户")
    resp = director.post(
        reverse("incentive_developed"),
        {"month": "2011-04", "customer_id": by_hand.pk, "developer": inc.teammate.pk, "reported_on": "2011-04-20"},
    )
    assert resp.status_code == 302
    south = inc.customer(inc.outsider, "南方客户")
    resp = director.post(
        reverse("incentive_developed"), {"month": "2011-04", "customer_id": south.pk, "developer": inc.rep.pk}
    )
    assert resp.status_code == 200 and not DevelopedCustomer.objects.filter(customer=south).exists()
    body = director.get(reverse("incentive_developed"), {"month": "2011-04"}).content.decode()
    assert "首付客户" in body and "手工客户" in body and "南方客户" not in body


# --- manage.py incentives ------------------------------------------------------------------------------------------


def test_the_command_prints_the_month_and_closes_it(april):
    out = StringIO()
    call_command("incentives", "--month", "2011-04", stdout=out, stderr=StringIO())
    text = out.getvalue()
    assert "rep [manager] threshold 2 · valid 4 · total +1000" in text
    assert "teammate [manager]" in text and "outsider [manager]" in text
    out = StringIO()
    call_command("incentives", "--month", "2011-04", "--close", "--json", stdout=out, stderr=StringIO())
    data = {s["user"]: s for s in json.loads(out.getvalue())}
    assert data["rep"]["total"] == 1000 and data["teammate"]["total"] == -300
    assert MonthClose.objects.get().month == APR


def test_the_command_refuses_a_bad_month(inc):
    with pytest.raises(CommandError):
        call_command("incentives", "--month", "April", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("incentives", "--month", "2010-01", stdout=StringIO())


def test_the_region_reorders_its_report_and_the_order_decides_who_fills_the_threshold(inc):
    assess(inc.rep, APR, 2)
    big = developed(inc, inc.rep, 60000, dt.date(2011, 4, 2), name="大客户")
    developed(inc, inc.rep, 8000, dt.date(2011, 4, 3), name="小客户")
    assert page(inc.rep).content.decode().count('data-total="300"') == 1  # the big one fills the threshold
    director = client_for(inc.director)
    url = reverse("incentive_developed")
    body = director.get(url, {"month": "2011-04"}).content.decode()
    assert body.index("大客户") < body.index("小客户")
    resp = director.post(url, {"month": "2011-04", "action": "down", "id": big.pk})
    assert resp.status_code == 302
    big.refresh_from_db()
    assert big.reported_on == dt.date(2011, 4, 2)  # the date is untouched: only the order moved
    assert 'data-total="0"' in page(inc.rep).content.decode()  # 8,000 then 60,000 (never split): nothing
    body = director.get(url, {"month": "2011-04"}).content.decode()
    assert body.index("小客户") < body.index("大客户")
    director.post(url, {"month": "2011-04", "action": "up", "id": big.pk})
    assert page(inc.rep).content.decode().count('data-total="300"') == 1
    # A rep keeps no inputs: the page is not theirs.
    assert client_for(inc.rep).post(url, {"month": "2011-04", "action": "up", "id": big.pk}).status_code == 404
