"""The daily jobs are Huey periodic tasks, fire at night local time, and can run twice."""

import datetime as dt

import pytest
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from yixiang.customers.models import Customer
from yixiang.pipeline import tasks
from yixiang.pipeline.tests.factories import days_ago, set_state


def _due_at(local_hour, local_minute):
    """The periodic tasks Huey would start at this local time (in the clock Huey uses)."""
    local = timezone.make_aware(dt.datetime.combine(dt.date(2025, 3, 3), dt.time(local_hour, local_minute)))
    stamp = local.astimezone(dt.UTC).replace(tzinfo=None) if HUEY.utc else local.replace(tzinfo=None)
    return {t.name for t in HUEY.read_periodic(stamp)}


def test_recycling_runs_at_half_past_one_and_proposals_at_two_local_time():
    assert "recycle_daily" in _due_at(1, 30)
    assert "release_proposals_daily" in _due_at(2, 0)
    assert "recycle_daily" not in _due_at(9, 30)


@pytest.mark.django_db
def test_the_recycling_job_runs_and_is_idempotent(org):
    c = set_state(
        org.customer(org.rep), next_due_on=timezone.localdate() - dt.timedelta(days=40), held_since=days_ago(50)
    )
    assert tasks.recycle_daily.call_local() == {"overdue": 1, "held_too_long": 0}
    assert Customer.objects.get(pk=c.pk).owner is None
    assert tasks.recycle_daily.call_local() == {"overdue": 0, "held_too_long": 0}
    assert tasks.release_proposals_daily.call_local()["proposed"] == 0
