"""A judgment needs evidence (issue 15): a rise with no signal and no judging answer asks the rep
to confirm; a rise above what the evidence supports is kept as a mismatch on the StageChange row;
the team review counts the mismatches, and a lead opens the list per rep."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from yixiang.pipeline import rules, selectors, services
from yixiang.pipeline.models import StageChange
from yixiang.pipeline.tests.factories import set_state
from yixiang.testing import PASSWORD


@pytest.fixture
def as_user(client):
    def _login(user):
        client.login(username=user.username, password=PASSWORD)
        return client

    return _login


def mismatch(frm, to, signals=None, answer=None):
    return rules.judgment_mismatch(from_stage=frm, to_stage=to, from_signals=signals, from_answer=answer)


def test_a_rise_with_no_signal_and_no_answer_is_a_judgment_without_evidence():
    assert mismatch(1, 2) == "no_evidence"


def test_a_rise_above_what_the_ticked_signals_support_is_a_mismatch():
    assert mismatch(1, 3, signals=2) == "above_evidence"
    assert mismatch(1, 2, signals=2) == ""
    assert mismatch(1, 2, signals=3) == ""  # the signals carry more: no mismatch
    assert mismatch(0, 3, answer=3) == ""  # the judging answer in the note carries it


def test_drops_unchanged_stages_and_signing_are_not_judged_for_evidence():
    assert mismatch(3, 1) == ""
    assert mismatch(2, 2) == ""
    assert mismatch(4, 5) == ""


def test_only_a_rise_without_any_evidence_asks_for_confirmation():
    assert rules.needs_evidence_confirmation(from_stage=1, to_stage=2, signals=[], answer=None)
    assert not rules.needs_evidence_confirmation(from_stage=1, to_stage=2, signals=["asks_how"], answer=None)
    assert not rules.needs_evidence_confirmation(from_stage=1, to_stage=2, signals=[], answer=2)
    assert not rules.needs_evidence_confirmation(from_stage=2, to_stage=1, signals=[], answer=None)


@pytest.mark.django_db
def test_the_mismatch_is_recorded_on_the_stage_change(org):
    c = set_state(org.customer(org.rep), stage=1)
    services.followup_log(actor=org.rep, customer=c, stage=3, signals=["asks_how"])  # a stage-2 signal
    services.followup_log(actor=org.rep, customer=c, stage=4, signals=["deciding_amount"])
    rows = list(StageChange.objects.filter(customer=c).order_by("at", "pk").values_list("to_stage", "mismatch"))
    assert rows == [(3, "above_evidence"), (4, "")]


@pytest.mark.django_db
def test_the_team_review_counts_mismatches_and_the_lead_opens_them_per_rep(org):
    a = set_state(org.customer(org.rep, name="没证据"), stage=0)
    b = set_state(org.customer(org.rep, name="有证据"), stage=1)
    services.followup_log(actor=org.rep, customer=a, stage=2)
    services.followup_log(actor=org.rep, customer=b, stage=2, signals=["compares_competitors"])
    today = timezone.localdate()
    review = {r.user_id: r for r in selectors.team_review(user=org.lead1, date_from=today, date_to=today)}
    mine = review[org.rep.pk]
    assert (mine.rises, mine.mismatches, mine.mismatch_share) == (2, 1, 0.5)
    listed = selectors.judgment_mismatches(user=org.lead1, rep_id=org.rep.pk, date_from=today, date_to=today)
    assert [(m.customer.name, m.mismatch, m.get_mismatch_display() != "") for m in listed] == [
        ("没证据", "no_evidence", True)
    ]
    week_ago = today - dt.timedelta(days=7)
    assert selectors.judgment_mismatches(user=org.lead2, rep_id=org.rep.pk, date_from=week_ago, date_to=today) == []


@pytest.mark.django_db
def test_the_form_asks_the_rep_to_confirm_a_rise_without_evidence(as_user, org):
    c = set_state(org.customer(org.rep), stage=1)
    client = as_user(org.rep)
    url = f"/customers/{c.pk}/follow-up/"
    post = {"channel": "phone", "effective": "on", "summary": "聊了聊", "stage": "2"}
    r = client.post(url, post)
    assert r.status_code == 200 and 'name="confirm_stage"' in r.content.decode()
    assert not StageChange.objects.filter(customer=c).exists()  # nothing changed
    r = client.post(url, {**post, "confirm_stage": "on"})
    assert r.status_code == 302
    assert StageChange.objects.get(customer=c).mismatch == "no_evidence"
    r = client.post(url, {**post, "stage": "3", "signals": ["asks_price"]})  # evidence: no question asked
    assert r.status_code == 302
