"""The one signing path: aftercare records the deal through contract_create, the pipeline marks the
stage and announces the signing on commit, and aftercare's listener thanks the referrer."""

from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from yixiang.aftercare import services_contracts, services_loyalty
from yixiang.aftercare.models import CareTask, Contract, ReferralReward
from yixiang.customers.models import Customer
from yixiang.errors import Conflict
from yixiang.pipeline import events


def test_signing_a_referred_customer_thanks_the_referrer_once_the_signing_commits(
    org, django_capture_on_commit_callbacks
):
    referrer = org.customer(org.rep, "老客户")
    services_loyalty.referrer_type_set(actor=org.rep, customer=referrer, referrer_type="practical")
    friend = org.customer(org.rep, "朋友")
    Customer.objects.filter(pk=friend.pk).update(referrer=referrer)
    heard: list[events.CustomerSigned] = []
    events.customer_signed.connect(lambda sender, event, **kw: heard.append(event), weak=False, dispatch_uid="t")
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            services_contracts.customer_sign(actor=org.rep, customer=friend, amount="9000")
        # Nothing is announced before the commit.
        assert heard == [] and not CareTask.objects.filter(kind="referral_thanks").exists()
        for callback in callbacks:
            callback()
    finally:
        events.customer_signed.disconnect(dispatch_uid="t")
    assert heard == [events.CustomerSigned(customer_id=friend.pk, actor_id=org.rep.pk, signed_on=timezone.localdate())]
    task = CareTask.objects.get(kind="referral_thanks")
    assert task.customer == referrer and "朋友" in task.title
    assert ReferralReward.objects.get(referred=friend).amount == Decimal("500")


def test_a_refused_signing_announces_nothing(org, django_capture_on_commit_callbacks):
    c = org.customer(org.rep, "甲")
    Contract.objects.create(
        customer=c, name="x", number="HT-TAKEN", start_date=timezone.localdate(), amount=1, signed_by=org.rep
    )
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Conflict):
        with transaction.atomic():
            services_contracts.customer_sign(actor=org.rep, customer=c, amount="100", contract_number="HT-TAKEN")
    assert callbacks == []  # the stage change rolled back with the refused contract
    c.refresh_from_db()
    assert c.stage != 5


def test_signing_numbers_the_contract_when_no_number_is_given(org):
    c = org.customer(org.rep, "乙")
    contract = services_contracts.customer_sign(actor=org.rep, customer=c, amount="100")
    assert contract.number == f"HT{timezone.localdate():%Y%m%d}-{c.pk}"
    assert contract.signed_by == org.rep and contract.name
