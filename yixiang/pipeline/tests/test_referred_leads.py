"""Referred leads are marked and come first in the agenda band they fall in (issue 15)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from yixiang.pipeline import rules, selectors
from yixiang.pipeline.tests.factories import set_state


def test_a_referred_lead_goes_first_in_its_band_but_not_above_a_hotter_band():
    key = rules.agenda_sort_key
    referred = key(stage=1, overdue=0, name="乙", referred=True)
    overdue = key(stage=2, overdue=9, name="甲")
    hot = key(stage=3, overdue=0, name="丙")
    assert sorted([overdue, referred, hot]) == [hot, referred, overdue]


@pytest.mark.django_db
def test_the_agenda_marks_referred_leads_and_puts_them_first_in_their_band(org):
    today = timezone.localdate()
    referrer = org.customer(org.rep, "老客户")
    plain = set_state(org.customer(org.rep, "甲普通"), stage=1, next_due_on=today - timezone.timedelta(days=5))
    referred = set_state(org.customer(org.rep, "乙被介绍"), stage=2, next_due_on=today, referrer=referrer)
    items = [i for i in selectors.agenda_items(user=org.rep, day=today) if i.customer_id in (plain.pk, referred.pk)]
    assert [(i.customer_id, i.referred) for i in items] == [(referred.pk, True), (plain.pk, False)]
