"""Activity over time and the after-sale figures, on small hand-made data worked out below."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from yixiang.aftercare.models import (
    Campaign,
    Contract,
    CustomerCare,
    Gift,
    LoyaltyChange,
    Message,
    Payment,
    Payout,
)
from yixiang.customers.models import Customer
from yixiang.pipeline.models import FollowUp
from yixiang.reports import activity_figures, aftersale_figures
from yixiang.reports.selectors import ReportFilters
from yixiang.reports.tests import data

pytestmark = pytest.mark.django_db


def follow_up(customer, rep, when, *, effective=True, channel="phone", minutes=None) -> FollowUp:
    return FollowUp.objects.create(
        customer=customer,
        rep=rep,
        at=when,
        effective=effective,
        channel=channel,
        duration_minutes=minutes,
        stage_before=customer.stage,
        stage_after=customer.stage,
    )


def test_activity_per_rep_per_week(org):
    built = data.build(org)
    # Week of 6 Jan: three follow-ups, two effective; week of 13 Jan: one; week of 20 Jan: none.
    follow_up(built.c1, org.rep, data.at(1, 6))
    follow_up(built.c1, org.rep, data.at(1, 7), effective=False)
    follow_up(built.c2, org.rep, data.at(1, 9))
    follow_up(built.c2, org.rep, data.at(1, 14))
    follow_up(built.c4, org.teammate, data.at(1, 14))
    f = ReportFilters(date_from=dt.date(2025, 1, 6), date_to=dt.date(2025, 1, 26), rep=org.rep.pk)
    report = activity_figures.activity(user=org.lead1, f=f, now=data.at(6, 1))
    assert report.periods == [
        (dt.date(2025, 1, 6), dt.date(2025, 1, 12)),
        (dt.date(2025, 1, 13), dt.date(2025, 1, 19)),
        (dt.date(2025, 1, 20), dt.date(2025, 1, 26)),
    ]
    [row] = report.rows
    assert row.name == "rep"
    assert [(p.follow_ups, p.effective) for p in row.points] == [(3, 2), (1, 1), (0, 0)]
    # Week of 20 Jan: 甲 1→2 and 乙 1→3 are rises; 乙's stage-3 judgment never signed within
    # 90 days (wrong) and was taken back on 10 Feb (reversed). 甲 went on up: not reversed.
    week3 = row.points[2]
    assert (week3.judgments, week3.reversed, week3.reversal_share) == (2, 1, 0.5)
    assert (week3.hot_judgments, week3.hot_right, week3.hot_accuracy) == (1, 0, 0.0)
    # Week of 6 Jan: 甲 0→1 on 10 Jan, a rise that held.
    assert (row.points[0].judgments, row.points[0].reversed) == (1, 0)


def test_activity_scoping(org):
    data.build(org)
    f = ReportFilters(date_from=dt.date(2025, 1, 6), date_to=dt.date(2025, 1, 12))
    assert [r.name for r in activity_figures.activity(user=org.rep, f=f).rows] == ["rep"]
    assert {r.name for r in activity_figures.activity(user=org.lead1, f=f).rows} == {"rep", "teammate"}
    assert {r.name for r in activity_figures.activity(user=org.director, f=f).rows} == {
        "rep",
        "teammate",
        "other_team_rep",
    }


def _signed(org, owner, name, tier, **kw) -> Customer:
    c = data.customer(org, owner, name, created=data.at(1, 1), stage=5)
    Customer.objects.filter(pk=c.pk).update(value_tier=tier, **kw)
    c.refresh_from_db()
    return c


def _pay(c, amount, day=dt.date(2025, 3, 10)) -> None:
    Payment.objects.create(customer=c, paid_on=day, amount=Decimal(amount))


def test_aftercare_figures(org):
    today = dt.date(2025, 3, 20)
    rep, mate = org.rep, org.teammate
    s1 = _signed(org, rep, "一", "A")
    s2 = _signed(org, rep, "二", "B", referrer=s1)
    s3 = _signed(org, rep, "三", "C")
    s4 = _signed(org, rep, "四", "D")
    _signed(org, rep, "五", "")  # signed, not rated, no revenue
    r1 = data.customer(org, rep, "荐", created=data.at(1, 1), stage=2)
    Customer.objects.filter(pk=r1.pk).update(referrer=s1)
    s6 = _signed(org, mate, "六", "A")
    # Revenue in March: 800, 100, 50, 50, 0 (rep) and 1000 (teammate). One February payment is
    # outside the period and must not count.
    for c, amount in ((s1, 800), (s2, 100), (s3, 50), (s4, 50), (s6, 1000)):
        _pay(c, amount)
    _pay(s1, 5000, day=dt.date(2025, 2, 10))
    CustomerCare.objects.create(customer=s1, loyalty_level="loyal")
    CustomerCare.objects.create(customer=s2, loyalty_level="satisfied")
    CustomerCare.objects.create(customer=s3, loyalty_level="satisfied")
    CustomerCare.objects.create(customer=s4, lapsing_since=dt.date(2025, 1, 5))
    CustomerCare.objects.create(customer=s6, loyalty_level="angry", lapsing_since=dt.date(2025, 1, 5))
    LoyaltyChange.objects.create(customer=s2, from_level="", to_level="satisfied", at=data.at(3, 2))
    LoyaltyChange.objects.create(customer=s1, from_level="satisfied", to_level="loyal", at=data.at(3, 3))
    LoyaltyChange.objects.create(customer=s3, from_level="loyal", to_level="satisfied", at=data.at(3, 4))
    LoyaltyChange.objects.create(customer=s6, from_level="loyal", to_level="angry", at=data.at(3, 4))
    k1 = Contract.objects.create(
        customer=s1,
        name="项目一",
        number="HT-1",
        start_date=dt.date(2024, 4, 20),
        end_date=today + dt.timedelta(days=20),
        amount=Decimal(9000),
    )
    Contract.objects.create(
        customer=s2,
        name="项目二",
        number="HT-2",
        start_date=dt.date(2024, 4, 20),
        end_date=today + dt.timedelta(days=60),
        amount=Decimal(1),
    )
    Contract.objects.create(
        customer=s3,
        name="项目三",
        number="HT-3",
        start_date=dt.date(2024, 4, 20),
        end_date=today + dt.timedelta(days=5),
        amount=Decimal(1),
        status="cancelled",
    )
    Payout.objects.create(contract=k1, due_date=today + dt.timedelta(days=3), amount=Decimal(100))
    Payout.objects.create(contract=k1, due_date=today - dt.timedelta(days=2), amount=Decimal(200))
    Payout.objects.create(contract=k1, due_date=today + dt.timedelta(days=30), amount=Decimal(300))
    Payout.objects.create(contract=k1, due_date=today - dt.timedelta(days=9), amount=Decimal(400), status="paid")
    # Costs in March: a 100-yuan gift and two calls to 一 (10 min, and unknown → 3 min at 0.10/min),
    # one SMS of 0.20 to 二.
    Gift.objects.create(customer=s1, rep=rep, given_on=dt.date(2025, 3, 5), item="茶叶", cost=Decimal(100))
    follow_up(s1, rep, data.at(3, 5), minutes=10)
    follow_up(s1, rep, data.at(3, 6))
    follow_up(s1, rep, data.at(3, 7), channel="visit", minutes=60)
    campaign = Campaign.objects.create(name="春", template="{name}好", reply_window_hours=12, created_by=rep)
    Message.objects.create(
        campaign=campaign,
        customer=s2,
        rep=rep,
        channel="sms",
        body="好",
        status="sent",
        sent_at=data.at(3, 8),
        cost=Decimal("0.20"),
    )

    f = ReportFilters(date_from=dt.date(2025, 3, 1), date_to=dt.date(2025, 3, 31), rep=rep.pk)
    r = aftersale_figures.aftercare(user=org.lead1, f=f, today=today)
    assert r.tiers == {"A": 1, "B": 1, "C": 1, "D": 1, "": 1}
    # Five signed customers; the top 20 % is one customer: 800 of 1000 = 80 %.
    assert (r.pareto_customers, r.pareto_share_percent, r.revenue_total) == (5, 80, Decimal(1000))
    assert r.pareto_curve[1] == (20.0, 80.0)
    assert r.loyalty["loyal"] == 1 and r.loyalty["satisfied"] == 2 and r.loyalty[""] == 2 and r.loyalty["angry"] == 0
    assert r.loyalty_moves == {"up": 1, "down": 1, "new": 1}
    assert [(x["name"], x["referred"], x["signed"], x["conversion_percent"]) for x in r.referrers] == [("一", 2, 1, 50)]
    assert [(p["amount"], p["late"]) for p in r.payouts_due] == [(Decimal(200), True), (Decimal(100), False)]
    assert [x["contract"] for x in r.renewals_due] == ["HT-1"]
    assert r.renewals_due[0]["days_left"] == 20
    assert [x["customer"] for x in r.lapsing] == ["四"]
    assert r.costs["A"]["gifts"] == Decimal(100)
    assert r.costs["A"]["calls"] == Decimal("1.30")
    assert r.costs["B"]["messages"] == Decimal("0.20")
    assert r.costs_total == Decimal("101.50")

    # The teammate's customer appears for the lead without the rep filter, never for the rep.
    everyone = aftersale_figures.aftercare(
        user=org.lead1, f=ReportFilters(date_from=f.date_from, date_to=f.date_to), today=today
    )
    assert everyone.tiers["A"] == 2 and everyone.loyalty["angry"] == 1
    mine = aftersale_figures.aftercare(user=rep, f=ReportFilters(date_from=f.date_from, date_to=f.date_to), today=today)
    assert mine.tiers["A"] == 1 and mine.loyalty["angry"] == 0 and mine.revenue_total == Decimal(1000)


def test_aftercare_queries_are_fixed(org, django_assert_max_num_queries):
    today = timezone.localdate()
    for i in range(10):
        c = _signed(org, org.rep, f"客{i}", "B")
        _pay(c, 10 * i, day=today)
    f = ReportFilters.default(today)
    with django_assert_max_num_queries(13):
        aftersale_figures.aftercare(user=org.admin, f=f, today=today)
