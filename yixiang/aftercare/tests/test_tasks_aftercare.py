"""The Huey jobs are wired to the services (tasks run inline under test)."""

import datetime as dt

from django.utils import timezone

from yixiang.aftercare import services_contracts, tasks
from yixiang.aftercare.models import CareTask
from yixiang.customers.models import Customer

from .factories import sign


def test_daily_job_runs_every_generator_once(org):
    today = timezone.localdate()
    customer = sign(org.customer(org.rep, "每日客户"))
    services_contracts.contract_create(
        actor=org.rep, customer=customer, name="项目", number="HT-D", start_date=today - dt.timedelta(days=300),
        end_date=today + dt.timedelta(days=20), amount=1000, payouts=[(today + dt.timedelta(days=3), 100)],
    )  # fmt: skip
    friend = org.customer(org.rep, "被介绍的")
    Customer.objects.filter(pk=friend.pk).update(referrer=customer, stage=5, signed_at=timezone.now())
    tasks.aftercare_daily()
    kinds = set(CareTask.objects.values_list("kind", flat=True))
    assert {"payout_notice", "renewal", "referral_thanks"} <= kinds
    n = CareTask.objects.count()
    tasks.aftercare_daily()
    assert CareTask.objects.count() == n  # idempotent
    Customer.objects.filter(pk=customer.pk).update(value_tier="")
    tasks.aftercare_daily()
    assert Customer.objects.get(pk=customer.pk).value_tier == "C"  # tiers recomputed daily


def test_frequent_jobs_run(org):
    tasks.campaigns_sweep()
    tasks.replies_and_referrals()
    assert not CareTask.objects.exists()
