"""A new lead is unjudged until its first effective contact (issue 15): not stage 0, and not in
the stage-0 balance of the rep's tracked list."""

from __future__ import annotations

import pytest
from django.utils import timezone, translation

from yixiang.customers.stages import is_unjudged
from yixiang.pipeline import selectors, services

pytestmark = pytest.mark.django_db


def _band(user, name):
    return next(b for b in selectors.tracked_balance(user=user) if b.band == name)


def test_a_new_lead_is_unjudged_and_outside_the_stage_zero_balance(org):
    lead = org.customer(org.rep, name="新线索")
    assert lead.is_unjudged
    assert _band(org.rep, "0").count == 0
    services.followup_log(actor=org.rep, customer=lead, effective=False, summary="没接")
    lead.refresh_from_db()
    assert lead.is_unjudged  # an attempt that reached no one judges nothing
    services.followup_log(actor=org.rep, customer=lead, stage=0, summary="在开会，约了下周")
    lead.refresh_from_db()
    assert not lead.is_unjudged
    assert _band(org.rep, "0").count == 1


def test_the_agenda_says_unjudged_instead_of_stage_zero(org):
    lead = org.customer(org.rep, name="新线索")
    services.followup_log(actor=org.rep, customer=lead, effective=False)
    judged = org.customer(org.rep, name="已判断")
    services.followup_log(actor=org.rep, customer=judged, stage=0)
    day = timezone.localdate() + timezone.timedelta(days=30)
    with translation.override("zh-hans"):
        labels = {i.customer_id: i.stage_label for i in selectors.agenda_items(user=org.rep, day=day)}
    assert labels[lead.pk] == "未判断"
    assert labels[judged.pk] == "0阶段"


def test_only_stage_zero_without_an_effective_contact_is_unjudged():
    now = timezone.now()
    assert is_unjudged(0, None)
    assert not is_unjudged(0, now)
    assert not is_unjudged(1, None)  # raised without a real conversation: judged, stage 1
