"""Logging follow-ups: time rules, proposals and decision stored, stage changes, rescheduling."""

import datetime as dt

import pytest
from django.utils import timezone

from yixiang.errors import Conflict, ValidationFailed
from yixiang.pipeline import rules, services
from yixiang.pipeline.models import FollowUp, StageChange, VisitPlan
from yixiang.pipeline.selectors import due_calendar
from yixiang.pipeline.tests.factories import days_ago, set_state

pytestmark = pytest.mark.django_db


def test_time_defaults_to_now_and_proposals_and_decision_are_stored(org):
    c = org.customer(org.rep)
    before = timezone.now()
    fu = services.followup_log(
        actor=org.rep,
        customer=c,
        signals=["answers_questions", "asks_results"],
        summary="客户问了价格，还想看看效果",
        stage=2,
    )
    assert before <= fu.at <= timezone.now()
    assert fu.proposed_stage_signals == 2
    assert fu.proposed_stage_text == 3
    assert fu.text_keywords == ["价格"]
    assert (fu.stage_before, fu.stage_after) == (0, 2)  # the rep decided 2, not the proposed 3
    c.refresh_from_db()
    assert c.stage == 2


def test_a_stage_change_is_a_row_with_who_signals_and_the_follow_up(org):
    c = org.customer(org.rep)
    fu = services.followup_log(actor=org.rep, customer=c, signals=["asks_price"], summary="问价格", stage=3)
    change = StageChange.objects.get(customer=c)
    assert (change.from_stage, change.to_stage, change.by, change.owner) == (0, 3, org.rep, org.rep)
    assert change.signals == ["asks_price"] and change.follow_up == fu and change.at == fu.at


def test_no_stage_change_no_row(org):
    c = org.customer(org.rep)
    services.followup_log(actor=org.rep, customer=c, stage=0, summary="在开会")
    services.followup_log(actor=org.rep, customer=c, summary="没接")  # stage omitted: kept
    assert not StageChange.objects.filter(customer=c).exists()


def test_an_effective_contact_reschedules_by_the_stage_interval(org):
    c = org.customer(org.rep)
    at = days_ago(1)
    services.followup_log(actor=org.rep, customer=c, at=at, stage=3)
    c.refresh_from_db()
    assert c.last_contact_at == at
    last = timezone.localtime(at).date()
    # Within 3 days: moved earlier off a day off, never later.
    assert last < c.next_due_on <= last + dt.timedelta(days=3)
    assert c.next_due_on == rules.shift_off_day_off(
        last + dt.timedelta(days=3), stage=3, calendar=due_calendar(last), not_before=last + dt.timedelta(days=1)
    )


def test_an_ineffective_attempt_does_not_count_as_contact(org):
    c = set_state(
        org.customer(org.rep), last_contact_at=days_ago(20), next_due_on=timezone.localdate() - dt.timedelta(days=5)
    )
    services.followup_log(actor=org.rep, customer=c, effective=False, summary="没人接")
    c.refresh_from_db()
    assert c.last_contact_at < days_ago(19)
    assert c.next_due_on < timezone.localdate()  # still overdue


def test_a_sooner_planned_contact_sets_the_due_date(org):
    c = org.customer(org.rep)
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    services.followup_log(actor=org.rep, customer=c, stage=0, next_contact_on=tomorrow)
    c.refresh_from_db()
    assert c.next_due_on == tomorrow


def test_a_back_dated_record_is_accepted(org):
    c = org.customer(org.rep)
    fu = services.followup_log(actor=org.rep, customer=c, at=days_ago(3), stage=1)
    assert fu.at < days_ago(2)


def test_a_future_time_is_refused_with_a_clear_message_and_nothing_changes(org):
    c = org.customer(org.rep)
    with pytest.raises(ValidationFailed) as exc:
        services.followup_log(actor=org.rep, customer=c, at=timezone.now() + dt.timedelta(hours=2), stage=3)
    assert "at" in exc.value.errors
    assert not FollowUp.objects.exists()
    c.refresh_from_db()
    assert c.stage == 0 and c.version == 1


def test_unknown_signals_and_bad_values_are_refused(org):
    c = org.customer(org.rep)
    with pytest.raises(ValidationFailed) as exc:
        services.followup_log(
            actor=org.rep, customer=c, signals=["nope"], channel="fax", grade="Z", duration_minutes=-1
        )
    assert set(exc.value.errors) == {"signals", "channel", "grade", "duration_minutes"}
    assert not FollowUp.objects.exists()


def test_signing_is_not_a_follow_up_stage(org):
    c = org.customer(org.rep)
    with pytest.raises(ValidationFailed):
        services.followup_log(actor=org.rep, customer=c, stage=5)


def test_a_pool_customer_must_be_claimed_first(org):
    c = org.customer(None)
    with pytest.raises(Conflict):
        services.followup_log(actor=org.admin, customer=c, stage=1)


def test_grade_follows_the_expected_month_unless_given(org):
    c = org.customer(org.rep)
    month = timezone.localdate().replace(day=1)
    services.followup_log(actor=org.rep, customer=c, stage=4, expected_sign_month=month)
    c.refresh_from_db()
    assert c.grade == "A" and c.expected_sign_month == month
    services.followup_log(actor=org.rep, customer=c, grade="C")
    c.refresh_from_db()
    assert c.grade == "C"


def test_logging_a_visit_completes_the_days_visit_plan(org):
    c = org.customer(org.rep)
    plan = services.visit_plan_create(
        actor=org.rep, customer=c, at=timezone.now() + dt.timedelta(minutes=1), place="客户公司", purpose="试探成交"
    )
    fu = services.followup_log(actor=org.rep, customer=c, channel="visit", stage=3)
    plan.refresh_from_db()
    assert plan.status == VisitPlan.Status.DONE and plan.follow_up == fu


def test_proposals_without_a_decision(org):
    p = services.propose_stage(signals=["asks_how", "bogus"], text="下周带合同")
    assert (p.from_signals, p.from_text, p.text_keywords, p.unknown_signals) == (2, 4, ("合同",), ("bogus",))
