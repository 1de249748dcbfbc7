"""The referrer is thanked as soon as a referral is given, not only once it signs (issue 15)."""

from __future__ import annotations

import pytest

from yixiang.aftercare import services_loyalty
from yixiang.aftercare.models import CareTask
from yixiang.customers.models import Customer

pytestmark = pytest.mark.django_db


def test_a_referral_given_gets_the_referrer_a_thank_you_task_once(org):
    referrer = org.customer(org.rep, "老客户")
    lead = org.customer(org.teammate, "朋友公司")
    Customer.objects.filter(pk=lead.pk).update(referrer=referrer)
    assert services_loyalty.referral_given_thanks() == 1
    task = CareTask.objects.get(source_key=f"referral-given:{lead.pk}")
    assert (task.kind, task.customer_id, task.rep_id) == ("referral_thanks", referrer.pk, org.rep.pk)
    assert "朋友公司" in task.title
    assert services_loyalty.referral_given_thanks() == 0  # idempotent


def test_the_signing_thanks_still_comes_after_the_given_thanks(org):
    from yixiang.aftercare import services_contracts

    referrer = org.customer(org.rep, "老客户")
    lead = org.customer(org.rep, "朋友公司")
    Customer.objects.filter(pk=lead.pk).update(referrer=referrer)
    services_loyalty.referral_given_thanks()
    services_contracts.customer_sign(actor=org.rep, customer=lead, amount="7950")
    services_loyalty.referral_scan()
    keys = set(CareTask.objects.filter(customer=referrer).values_list("source_key", flat=True))
    assert {f"referral-given:{lead.pk}", f"referral-thanks:{lead.pk}"} <= keys
