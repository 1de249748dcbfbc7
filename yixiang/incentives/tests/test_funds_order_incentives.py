"""Item 11 (every earned reward paid; the month's funds entered), item 8 (the region's reported
order) and item 7 (counted product categories), through the database, the API and the pages."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from yixiang.aftercare.models import Payment
from yixiang.errors import Conflict, DomainError, ValidationFailed
from yixiang.incentives import services
from yixiang.incentives.engine import Engine
from yixiang.incentives.models import DevelopedCustomer, MonthFunds, SchemeVersion, Statement, StatementLine
from yixiang.incentives.tests.factories import assess, developed
from yixiang.testing import PASSWORD

APR = dt.date(2011, 4, 1)


def statement(month: dt.date, user):
    return Engine().result(month).by_user()[user.pk]


def put(api, url: str, data: dict):
    return api.client.put(url, json.dumps(data), content_type="application/json", headers=api.headers)


def client_for(user) -> Client:
    c = Client()
    assert c.login(username=user.username, password=PASSWORD)
    return c


@pytest.fixture
def rich_month(inc):
    """April: the rep earns 1,000 + 1,000 beyond threshold 2 (no penalties anywhere, no fund)."""
    assess(inc.rep, APR, 2)
    for day in (2, 3, 4):
        developed(inc, inc.rep, 50000, dt.date(2011, 4, day))
    return inc


# --- Item 11: funding ------------------------------------------------------------------------------------


def test_the_months_funds_pay_rewards_after_the_penalties_and_nothing_is_withheld(rich_month):
    inc = rich_month
    assert statement(APR, inc.rep).total == 2000  # paid although no fund covers it
    assert Engine().result(APR).funding.shortfall == 2000 + 1200  # the director's +1,200 too (6 of 2)
    services.month_funds_set(actor=inc.admin, month=APR, management_fund=1200, efficiency_wages=1000)
    st = statement(APR, inc.rep)
    assert [(x.amount, x.funding) for x in st.lines if x.kind == "reward"] == [
        (1000, "management_fund"),
        (200, "management_fund"),
        (800, "efficiency_wages"),
    ]
    f = Engine().result(APR).funding
    assert (f.from_management, f.from_wages, f.shortfall) == (1200, 1000, 1000)
    assert st.total == 2000


def test_only_an_administrator_enters_the_funds_and_not_for_a_closed_month(rich_month):
    inc = rich_month
    with pytest.raises(DomainError) as exc:
        services.month_funds_set(actor=inc.director, month=APR, management_fund=1, efficiency_wages=1)
    assert exc.value.code == "forbidden"
    with pytest.raises(ValidationFailed):
        services.month_funds_set(actor=inc.admin, month=APR, management_fund=-1, efficiency_wages=0)
    services.month_close(actor=inc.admin, month=APR)
    with pytest.raises(Conflict):
        services.month_funds_set(actor=inc.admin, month=APR, management_fund=5000, efficiency_wages=0)
    assert not MonthFunds.objects.exists()


def test_a_closed_month_keeps_its_shortfall(rich_month):
    inc = rich_month
    services.month_funds_set(actor=inc.admin, month=APR, management_fund=2000, efficiency_wages=0)
    close = services.month_close(actor=inc.admin, month=APR)
    assert (close.management_fund, close.from_management, close.shortfall, close.held_back) == (2000, 2000, 1200, 0)
    assert Engine().result(APR).funding.shortfall == 1200


def test_the_director_sees_the_shortfall_line_and_the_administrator_enters_the_funds_on_the_page(rich_month):
    inc = rich_month
    url = reverse("incentive_statements")
    body = client_for(inc.director).get(url, {"month": "2011-04"}).content.decode()
    assert 'id="shortfall"' in body and "3200" in body
    assert 'id="shortfall"' not in client_for(inc.rep).get(url, {"month": "2011-04"}).content.decode()
    admin = client_for(inc.admin)
    resp = admin.post(
        reverse("incentive_month_funds"), {"month": "2011-04", "management_fund": "3000", "efficiency_wages": "200"}
    )
    assert resp.status_code == 302
    assert 'id="shortfall"' not in client_for(inc.director).get(url, {"month": "2011-04"}).content.decode()
    # A director may not: the same 404 as a page that does not exist; nothing changes.
    resp = client_for(inc.director).post(
        reverse("incentive_month_funds"), {"month": "2011-04", "management_fund": "0", "efficiency_wages": "0"}
    )
    assert resp.status_code == 404 and MonthFunds.objects.get(month=APR).management_fund == 3000


def test_the_api_takes_the_funds_and_reports_the_shortfall_to_the_director(rich_month, api_as):
    inc = rich_month
    summary = api_as(inc.director).get("/api/v1/incentives/months/2011-04")
    assert summary.status_code == 200 and summary.json()["shortfall"] == 3200
    assert api_as(inc.rep).get("/api/v1/incentives/months/2011-04").json()["shortfall"] is None
    resp = put(api_as(inc.admin), "/api/v1/incentives/months/2011-04/funds", {"management_fund": 2000,
                                                                                "efficiency_wages": 1200})  # fmt: skip
    assert resp.status_code == 200, resp.content
    assert resp.json() == {"month": "2011-04", "management_fund": 2000, "efficiency_wages": 1200}
    funding = api_as(inc.admin).get("/api/v1/incentives/months/2011-04").json()["funding"]
    assert (funding["from_management"], funding["from_wages"], funding["shortfall"]) == (2000, 1200, 0)
    bad = put(api_as(inc.admin), "/api/v1/incentives/months/2011-04/funds", {"management_fund": -5,
                                                                               "efficiency_wages": 0})  # fmt: skip
    assert bad.status_code in (400, 422)
    refused = put(api_as(inc.director), "/api/v1/incentives/months/2011-04/funds", {"management_fund": 0,
                                                                                      "efficiency_wages": 0})  # fmt: skip
    assert refused.status_code == 403
    assert MonthFunds.objects.get(month=APR).management_fund == 2000


# --- Item 8: the region's reported order ---------------------------------------------------------------------


@pytest.fixture
def two_regions(inc):
    """April, north: a 60,000 customer paid first, an 8,000 one paid later; south: one customer."""
    assess(inc.rep, APR, 2)
    big = developed(inc, inc.rep, 60000, dt.date(2011, 4, 2), name="大客户")
    small = developed(inc, inc.rep, 8000, dt.date(2011, 4, 20), name="小客户")
    south = developed(inc, inc.outsider, 9000, dt.date(2011, 4, 1), name="南方客户")
    return inc, big, small, south


def test_a_new_customer_goes_last_in_the_report_whatever_its_date(two_regions):
    inc, big, small, south = two_regions
    late_entry = inc.customer(inc.rep, "补录客户")
    Payment.objects.create(customer=late_entry, paid_on=dt.date(2011, 4, 1), amount=Decimal(8000))
    row = services.developed_customer_record(
        actor=inc.director, customer_id=late_entry.pk, developer_id=inc.rep.pk, month=APR
    )
    positions = dict(DevelopedCustomer.objects.filter(month=APR).values_list("customer_id", "position"))
    assert positions[late_entry.pk] == max(positions.values())  # paid on the 1st, still last
    assert row.reported_on == dt.date(2011, 4, 1)


def test_the_region_sets_its_order_and_the_order_decides_who_fills_the_threshold(two_regions):
    inc, big, small, south = two_regions
    assert statement(APR, inc.rep).total == 300  # 60,000 fills the threshold; 8,000 earns 300
    south_position = DevelopedCustomer.objects.get(pk=south.pk).position
    services.developed_order_set(actor=inc.director, month=APR, ids=[small.pk, big.pk])
    assert statement(APR, inc.rep).total == 0  # 8,000 then 60,000 fill it (never split): nothing
    assert DevelopedCustomer.objects.get(pk=south.pk).position == south_position  # the other region's stays
    big.refresh_from_db()
    assert big.reported_on == dt.date(2011, 4, 2)  # dates are untouched and do not rank


def test_the_order_must_list_the_regions_customers_exactly_once(two_regions):
    inc, big, small, south = two_regions
    for ids in ([big.pk], [big.pk, small.pk, small.pk], [big.pk, small.pk, south.pk]):
        with pytest.raises(ValidationFailed):
            services.developed_order_set(actor=inc.director, month=APR, ids=ids)
    with pytest.raises(DomainError) as exc:
        services.developed_order_set(actor=inc.rep, month=APR, ids=[small.pk, big.pk])
    assert exc.value.code == "forbidden"
    assert statement(APR, inc.rep).total == 300


def test_the_api_lists_and_reorders_the_regions_report(two_regions, api_as):
    inc, big, small, south = two_regions
    listed = api_as(inc.director).get("/api/v1/incentives/developed", month="2011-04")
    assert listed.status_code == 200
    assert [r["customer"]["name"] for r in listed.json()] == ["大客户", "小客户"]  # not the south's
    resp = put(api_as(inc.director), "/api/v1/incentives/developed/order", {"month": "2011-04",
                                                                              "ids": [small.pk, big.pk]})  # fmt: skip
    assert resp.status_code == 200, resp.content
    assert [r["customer"]["name"] for r in resp.json()] == ["小客户", "大客户"]
    assert statement(APR, inc.rep).total == 0
    bad = put(api_as(inc.director), "/api/v1/incentives/developed/order", {"month": "2011-04", "ids": [big.pk]})
    assert bad.status_code == 400 and "ids" in bad.content.decode()
    assert api_as(inc.rep).get("/api/v1/incentives/developed", month="2011-04").status_code == 403


# --- Item 7: counted product categories ---------------------------------------------------------------------


def test_only_payments_of_the_schemes_product_categories_count(inc):
    assess(inc.rep, APR, 1)
    dev = developed(inc, inc.rep, 8000, dt.date(2011, 4, 2))
    Payment.objects.filter(customer=dev.customer).update(category="饮料")
    assert statement(APR, inc.rep).valid_customers == 1  # product default: every payment counts
    SchemeVersion.objects.update(counted_categories=["煎烤旺", "低温产品"])
    assert statement(APR, inc.rep).valid_customers == 0
    # The rep records a 煎烤旺 payment on the customer's after-sale panel: now it counts.
    url = reverse("customer_aftercare_action", args=[dev.customer.pk, "payment"])
    resp = client_for(inc.rep).post(url, {"paid_on": "2011-04-09", "amount": "7950", "category": "煎烤旺"})
    assert resp.status_code in (200, 302)
    assert Payment.objects.get(customer=dev.customer, category="煎烤旺").amount == Decimal(7950)
    assert statement(APR, inc.rep).valid_customers == 1


def test_the_migration_numbers_existing_months_in_their_old_order(inc):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("yixiang.incentives.migrations.0004_funds_order_categories")
    late = developed(inc, inc.rep, 8000, dt.date(2011, 4, 20))
    early = developed(inc, inc.rep, 8000, dt.date(2011, 4, 2))
    may = developed(inc, inc.rep, 8000, dt.date(2011, 5, 9))
    DevelopedCustomer.objects.update(position=0)  # as the column arrives
    migration.number_reported_order(apps, None)
    positions = dict(DevelopedCustomer.objects.values_list("pk", "position"))
    assert (positions[early.pk], positions[late.pk], positions[may.pk]) == (1, 2, 1)


def test_a_reward_held_back_in_a_month_closed_under_the_old_rule_is_paid_by_a_correction(rich_month):
    inc = rich_month
    services.month_close(actor=inc.admin, month=APR)
    # As a month closed before rewards were always paid would have stored it: 1,000 held back.
    line = StatementLine.objects.filter(statement__user=inc.rep, statement__month=APR, kind="reward").last()
    StatementLine.objects.filter(pk=line.pk).update(amount=0, funding="held_back", held_back=line.amount)
    Statement.objects.filter(user=inc.rep, month=APR).update(total=1000)
    may = Engine().result(dt.date(2011, 5, 1)).by_user()[inc.rep.pk]
    assert [(x.kind, x.amount, x.refers_to) for x in may.lines] == [("correction", 1000, APR)]
