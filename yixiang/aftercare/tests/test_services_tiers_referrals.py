"""Value tiers and the 80/20 view on a hand-made data set; referrals, loyalty, lapsing, costs."""

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
from django.utils import timezone

from yixiang.aftercare import selectors, services, services_contracts, services_loyalty
from yixiang.aftercare.models import CareTask, CustomerCare, LoyaltyChange, ReferralReward, TierChange
from yixiang.customers.models import Customer
from yixiang.errors import ValidationFailed

from .factories import pay, sign

D = dt.date
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
TODAY = D(2025, 6, 30)


@pytest.fixture
def book(org):
    """rep: 5 signed customers (one big), teammate: 2, other team: 1 — revenue in the last year."""
    amounts_rep = {"大客户": 160000, "中客户": 20000, "小客户一": 10000, "小客户二": 6000, "没钱客户": 0}
    out = {}
    for name, amount in amounts_rep.items():
        c = sign(org.customer(org.rep, name))
        if amount:
            pay(c, amount, D(2025, 3, 1))
        out[name] = c
    for name, amount in {"同事甲": 50000, "同事乙": 50000}.items():
        c = sign(org.customer(org.teammate, name))
        pay(c, amount, D(2025, 4, 1))
        out[name] = c
    out["外组"] = sign(org.customer(org.other_team_rep, "外组"))
    pay(out["外组"], 999999, D(2025, 4, 1))
    pay(out["大客户"], 500000, D(2023, 1, 1))  # outside the 365-day window
    return out


def test_tiers_from_contribution_and_potential(book):
    Customer.objects.filter(pk=book["没钱客户"].pk).update(funds_available=Decimal(60000))
    changed = services_loyalty.tiers_recompute(today=TODAY)
    tiers = dict(Customer.objects.filter(stage=5).values_list("name", "value_tier"))
    assert tiers["大客户"] == "A"
    assert tiers["中客户"] == "C"  # 20,000 < 30,000
    assert tiers["没钱客户"] == "B"  # no revenue, but 60,000 funds available
    assert tiers["同事甲"] == "B"
    assert changed == 8
    assert services_loyalty.tiers_recompute(today=TODAY) == 0  # stable
    assert TierChange.objects.filter(manual=False).count() == 8


def test_open_opportunities_lift_the_tier(org, book):
    small = book["小客户二"]
    for name in ("介绍一", "介绍二"):
        org.customer(org.rep, name, referrer=small)
    Customer.objects.filter(name__startswith="介绍").update(referrer=small)
    services_loyalty.tiers_recompute(today=TODAY)
    assert Customer.objects.get(pk=small.pk).value_tier == "B"  # two open referred prospects


def test_manual_override_wins_needs_a_reason_and_can_be_cleared(org, book):
    services_loyalty.tiers_recompute(today=TODAY)
    big = book["大客户"]
    with pytest.raises(ValidationFailed):
        services_loyalty.tier_override(actor=org.rep, customer=big, tier="D", reason="")
    services_loyalty.tier_override(actor=org.rep, customer=big, tier="D", reason="资金链断裂，暂无潜力")
    assert Customer.objects.get(pk=big.pk).value_tier == "D"
    services_loyalty.tiers_recompute(today=TODAY)
    assert Customer.objects.get(pk=big.pk).value_tier == "D"  # recompute keeps the override
    change = TierChange.objects.filter(customer=big, manual=True).first()
    assert (change.from_tier, change.to_tier, change.by) == ("A", "D", org.rep)
    services_loyalty.tier_override(actor=org.rep, customer=big, tier="", reason="")
    assert Customer.objects.get(pk=big.pk).value_tier == "A"


def test_pareto_overall_and_per_rep_for_a_lead(org, book):
    report = selectors.pareto_report(org.lead1, today=TODAY)
    overall = report["overall"]
    # Team N1: 7 signed customers, revenue 160k+20k+10k+6k+0+50k+50k = 296k; top 20% = 2 customers.
    assert (overall.customers, overall.top_count, overall.total) == (7, 2, Decimal(296000))
    assert overall.top_revenue == Decimal(210000)
    assert overall.percent == 71
    per_rep = {r["rep"].username: r["split"] for r in report["per_rep"]}
    assert set(per_rep) == {"rep", "teammate"}  # the other team is out of scope
    assert per_rep["rep"].top_revenue == Decimal(160000) and per_rep["rep"].total == Decimal(196000)
    assert per_rep["teammate"].share == Decimal("0.5")
    rep_only = selectors.pareto_report(org.rep, today=TODAY)
    assert rep_only["overall"].customers == 5


def test_referred_customer_signing_thanks_the_referrer_and_rewards_practical_ones(org):
    referrer = sign(org.customer(org.rep, "老客户"))
    services_loyalty.referrer_type_set(actor=org.rep, customer=referrer, referrer_type="practical")
    friend = org.customer(org.teammate, "朋友", referrer=referrer)
    Customer.objects.filter(pk=friend.pk).update(referrer=referrer)
    assert services_loyalty.on_customer_signed(friend) is None  # not signed yet
    sign(friend)
    task = services_loyalty.on_customer_signed(friend)
    assert task.kind == CareTask.Kind.REFERRAL_THANKS and task.rep == org.rep and task.customer == referrer
    assert "朋友" in task.title
    reward = ReferralReward.objects.get(referred=friend)
    assert reward.referrer == referrer and reward.amount == Decimal("500")
    # Idempotent, and the scan finds nothing more to do.
    services_loyalty.on_customer_signed(friend)
    assert services_loyalty.referral_scan() == 0
    assert CareTask.objects.filter(kind="referral_thanks").count() == 1 and ReferralReward.objects.count() == 1


def test_referral_scan_works_without_the_pipeline_calling_us(org):
    referrer = sign(org.customer(org.rep, "荣誉型"))
    services_loyalty.referrer_type_set(actor=org.rep, customer=referrer, referrer_type="honour")
    friend = org.customer(org.rep, "被介绍")
    Customer.objects.filter(pk=friend.pk).update(referrer=referrer, stage=5, signed_at=timezone.now())
    assert services_loyalty.referral_scan() == 1
    assert CareTask.objects.filter(kind="referral_thanks", customer=referrer).count() == 1
    assert not ReferralReward.objects.exists()  # honour referrers want no reward
    assert services_loyalty.referral_scan() == 0


def test_referral_tree_hides_customers_out_of_scope(org):
    root = sign(org.customer(org.rep, "根"))
    a = org.customer(org.rep, "甲")
    b = org.customer(org.outsider, "乙")
    a1 = org.customer(org.rep, "甲一")
    Customer.objects.filter(pk__in=[a.pk, b.pk]).update(referrer=root)
    Customer.objects.filter(pk=a1.pk).update(referrer=a, stage=5)
    Customer.objects.filter(pk=b.pk).update(stage=5)
    tree = selectors.referral_tree(org.rep, root)
    assert tree["referred_count"] == 2 and tree["signed_count"] == 1 and tree["conversion_percent"] == 50
    names = [(n["name"], n["id"], n["signed"]) for n in tree["children"]]
    assert names[0] == ("甲", a.pk, False)
    assert names[1][1] is None and names[1][0] != "乙" and names[1][2] is True
    assert tree["children"][0]["children"][0]["name"] == "甲一"
    stats = selectors.referrer_stats(org.rep)
    assert [(s["customer"].name, s["referred"], s["signed"]) for s in stats] == [("根", 2, 1), ("甲", 1, 1)]


def test_referral_ask_records_the_checklist(org):
    c = sign(org.customer(org.rep, "询问对象"))
    ask = services_loyalty.referral_ask_log(
        actor=org.rep, customer=c, prerequisites=["satisfied", "trusts_product", "bogus"], outcome="not_asked"
    )
    assert ask.prerequisites == ["trusts_product", "satisfied"]
    with pytest.raises(ValidationFailed):
        services_loyalty.referral_ask_log(actor=org.rep, customer=c, prerequisites=[], outcome="maybe")


def test_loyalty_ladder_with_history_and_lifecycle(org):
    c = sign(org.customer(org.rep, "忠诚度"))
    services_loyalty.loyalty_set(actor=org.rep, customer=c, level="satisfied")
    services_loyalty.loyalty_set(actor=org.rep, customer=c, level="very_satisfied", note="续了一年")
    services_loyalty.loyalty_set(actor=org.rep, customer=c, level="loyal", note="主动介绍朋友")
    services_loyalty.loyalty_set(actor=org.rep, customer=c, level="loyal")
    assert list(LoyaltyChange.objects.filter(customer=c).values_list("from_level", "to_level")) == [
        ("very_satisfied", "loyal"),
        ("satisfied", "very_satisfied"),
        ("", "satisfied"),
    ]
    with pytest.raises(ValidationFailed):
        services_loyalty.loyalty_set(actor=org.rep, customer=c, level="ecstatic")
    assert selectors.lifecycle_of(c) == "first_time_buyer"
    for n in range(3):
        services_contracts.shipment_record(actor=org.rep, customer=c, shipped_on=D(2025, 1 + n, 1))
    assert selectors.lifecycle_of(c) == "loyal_client"
    friend = org.customer(org.rep, "被推荐")
    Customer.objects.filter(pk=friend.pk).update(referrer=c, stage=5)
    assert selectors.lifecycle_of(c) == "advocate"
    assert selectors.lifecycle_of(org.customer(org.rep, "路人")) == "suspect"


def test_lapsing_flag_and_prevention_task(org):
    c = sign(org.customer(org.rep, "沉默客户"), on=dt.datetime(2024, 1, 10, 10, tzinfo=SHANGHAI))
    pay(c, 1000, D(2025, 1, 1))
    assert services_loyalty.lapsing_scan(today=D(2025, 3, 31)) == 0  # 89 days
    assert services_loyalty.lapsing_scan(today=D(2025, 4, 1)) == 1
    assert CustomerCare.objects.get(pk=c.pk).lapsing_since == D(2025, 4, 1)
    task = CareTask.objects.get(kind="lapse")
    assert task.rep == org.rep and task.occasion_on == D(2025, 1, 1)
    assert services_loyalty.lapsing_scan(today=D(2025, 4, 2)) == 0
    pay(c, 1000, D(2025, 4, 3))
    services_loyalty.lapsing_scan(today=D(2025, 4, 5))
    assert CustomerCare.objects.get(pk=c.pk).lapsing_since is None


def test_maintenance_cost_per_customer_and_tier(org):
    from yixiang.aftercare.models import Campaign, Message
    from yixiang.pipeline.models import FollowUp

    a = sign(org.customer(org.rep, "甲A"))
    d = sign(org.customer(org.rep, "乙D"))
    Customer.objects.filter(pk=a.pk).update(value_tier="A")
    Customer.objects.filter(pk=d.pk).update(value_tier="D")
    camp = Campaign.objects.create(name="c", template="t", reply_window_hours=12, created_by=org.rep)
    at = dt.datetime(2025, 5, 10, 9, tzinfo=SHANGHAI)
    for cust in (a, d):
        Message.objects.create(campaign=camp, customer=cust, rep=org.rep, channel="sms", body="t",
                               status="sent", sent_at=at, cost=Decimal("0.20"))  # fmt: skip
    FollowUp.objects.create(
        customer=a, rep=org.rep, at=at, channel="phone", duration_minutes=10, stage_before=5, stage_after=5
    )
    FollowUp.objects.create(customer=a, rep=org.rep, at=at, channel="phone", stage_before=5, stage_after=5)
    services.gift_log(actor=org.rep, customer=a, item="茶叶", cost="120", given_on=D(2025, 5, 12))
    services.gift_log(actor=org.rep, customer=a, item="旧礼物", cost="999", given_on=D(2025, 4, 30))
    costs = selectors.maintenance_costs(org.rep, 2025, 5)
    assert costs["tiers"]["A"]["total"] == Decimal("0.20") + Decimal("1.30") + Decimal("120")
    assert costs["tiers"]["D"]["total"] == Decimal("0.20")
    assert costs["total"] == Decimal("121.70")
    assert selectors.maintenance_costs(org.outsider, 2025, 5)["total"] == 0
