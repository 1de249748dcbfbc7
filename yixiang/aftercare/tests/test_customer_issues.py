"""Complaints, disputes and suggestions recorded on the customer (issue 15): what, when, who
handles it, resolved when; on the handler's agenda until resolved; they feed the loyalty level."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from yixiang.aftercare import services_issues, services_loyalty
from yixiang.aftercare.models import CustomerCare, CustomerIssue
from yixiang.errors import Conflict, ValidationFailed
from yixiang.pipeline import selectors as pipeline_selectors

pytestmark = pytest.mark.django_db


def _agenda_issue_ids(user, day):
    return [c["id"] for c in pipeline_selectors.agenda(user=user, day=day).care if c["kind"].startswith("issue_")]


def test_an_issue_keeps_what_when_who_and_is_on_the_agenda_until_resolved(org):
    c = org.customer(org.rep, "投诉客户")
    issue = services_issues.issue_record(
        actor=org.rep, customer=c, kind="complaint", what="发票开错了", handler=org.rep, raised_on=timezone.localdate()
    )
    assert (issue.kind, issue.what, issue.handler, issue.resolved_at) == ("complaint", "发票开错了", org.rep, None)
    later = timezone.localdate() + dt.timedelta(days=5)
    assert _agenda_issue_ids(org.rep, later) == [issue.pk]  # still there days later
    assert _agenda_issue_ids(org.teammate, later) == []  # on the handler's agenda only
    services_issues.issue_resolve(actor=org.rep, issue=issue, resolution="重开发票并道歉")
    assert _agenda_issue_ids(org.rep, later) == []
    with pytest.raises(Conflict):
        services_issues.issue_resolve(actor=org.rep, issue=issue, resolution="again")


def test_complaints_and_disputes_lower_the_loyalty_level_suggestions_do_not(org):
    c = org.customer(org.rep, "满意客户")
    services_loyalty.loyalty_set(actor=org.rep, customer=c, level="very_satisfied")
    services_issues.issue_record(actor=org.rep, customer=c, kind="suggestion", what="希望多发报表", handler=org.rep)
    assert CustomerCare.objects.get(pk=c.pk).loyalty_level == "very_satisfied"
    services_issues.issue_record(actor=org.rep, customer=c, kind="complaint", what="效果不好", handler=org.rep)
    assert CustomerCare.objects.get(pk=c.pk).loyalty_level == "unhappy"
    services_issues.issue_record(actor=org.rep, customer=c, kind="dispute", what="扣费争议", handler=org.lead1)
    assert CustomerCare.objects.get(pk=c.pk).loyalty_level == "angry"
    services_issues.issue_record(actor=org.rep, customer=c, kind="complaint", what="又一次", handler=org.rep)
    assert CustomerCare.objects.get(pk=c.pk).loyalty_level == "angry"  # a complaint never raises it


def test_an_issue_needs_a_kind_and_a_text_and_changes_nothing_otherwise(org):
    c = org.customer(org.rep)
    with pytest.raises(ValidationFailed):
        services_issues.issue_record(actor=org.rep, customer=c, kind="praise", what="好", handler=org.rep)
    with pytest.raises(ValidationFailed):
        services_issues.issue_record(actor=org.rep, customer=c, kind="complaint", what="  ", handler=org.rep)
    assert not CustomerIssue.objects.exists()
