"""The team review on a hand-made data set; the expected figures are worked out below."""

import datetime as dt

import pytest
from django.utils import timezone

from yixiang.aftercare import services_contracts
from yixiang.pipeline import selectors, services
from yixiang.pipeline.tests.factories import days_ago, set_state

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(org, settings):
    settings.YIXIANG = {**settings.YIXIANG, "ACCURACY_SIGN_WITHIN_DAYS": 12, "FOLLOWUP_BACKDATE_DAYS": 400}
    today = timezone.localdate()
    log = services.followup_log
    rep = org.rep

    a = org.customer(rep, name="A")
    log(actor=rep, customer=a, at=days_ago(20), stage=1)  # rise 0→1
    log(actor=rep, customer=a, at=days_ago(15), stage=3)  # rise 1→3: hot judgment
    services_contracts.customer_sign(actor=rep, customer=a, amount="20000", signed_on=today - dt.timedelta(days=5))
    # signed ~10 days after the stage-3 judgment: within 12 days → right

    b = org.customer(rep, name="B")
    log(actor=rep, customer=b, at=days_ago(25), stage=2)  # rise 0→2 (stands: never below 2 later)
    log(actor=rep, customer=b, at=days_ago(10), stage=4)  # rise 2→4: hot, 10 days old → pending
    log(actor=rep, customer=b, at=days_ago(3), stage=2, effective=False)  # drop 4→2 reverses the 4

    c = org.customer(rep, name="C")
    log(actor=rep, customer=c, at=days_ago(2), effective=False)  # no stage change

    e = org.customer(rep, name="E")
    log(actor=rep, customer=e, at=days_ago(28), stage=3)  # rise 0→3: hot, 28 days, unsigned → wrong

    old = org.customer(rep, name="old")
    log(actor=rep, customer=old, at=days_ago(200), stage=3)  # outside the period: not counted

    f = org.customer(org.teammate, name="F")
    log(actor=org.teammate, customer=f, at=days_ago(1), stage=1)

    # Due dates fixed by hand so "overdue" does not depend on the calendar: B and C are overdue.
    set_state(b, next_due_on=today - dt.timedelta(days=1))
    set_state(c, next_due_on=today - dt.timedelta(days=3))
    set_state(e, next_due_on=today + dt.timedelta(days=2))
    set_state(old, next_due_on=today)
    set_state(f, next_due_on=today)
    return today


def review(user, today):
    rows = selectors.team_review(user=user, date_from=today - dt.timedelta(days=30), date_to=today)
    return {r.name: r for r in rows}


def test_the_reps_figures(org, data):
    r = review(org.lead1, data)["rep"]
    # Follow-ups in the 31 days: A 2, B 3, C 1, E 1 = 7; effective: A 2, B 2, E 1 = 5.
    assert (r.follow_ups, r.effective) == (7, 5)
    assert (r.follow_ups_per_day, r.effective_per_day) == (round(7 / 31, 2), round(5 / 31, 2))
    assert r.overdue == 2
    assert r.stages == {5: 1, 2: 1, 0: 1, 3: 2}  # A signed, B 2, C 0, E 3, old 3
    # Rises 0→1, 1→3, 0→2, 2→4, 0→3; one drop 4→2; one signing.
    assert (r.rises, r.drops, r.signed) == (5, 1, 1)
    # Hot judgments A→3 (right), B→4 (pending), E→3 (wrong): 1 of 2 decided.
    assert (r.hot_judgments, r.hot_right, r.hot_pending, r.hot_accuracy) == (3, 1, 1, 0.5)
    # Five rises judged, one (B→4) later reversed.
    assert (r.judgments, r.reversed, r.reversal_share) == (5, 1, 0.2)


def test_the_teammate_and_an_idle_lead(org, data):
    rows = review(org.lead1, data)
    t = rows["teammate"]
    assert (t.follow_ups, t.rises, t.hot_judgments, t.hot_accuracy, t.reversal_share) == (1, 1, 0, None, 0.0)
    lead = rows["lead1"]
    assert (lead.follow_ups, lead.rises, lead.stages) == (0, 0, {})


def test_scope_lead_sees_the_team_director_the_region_rep_only_themself(org, data):
    assert set(review(org.lead1, data)) == {"lead1", "rep", "teammate"}
    assert set(review(org.director, data)) == {"director", "lead1", "lead2", "rep", "teammate", "other_team_rep"}
    assert set(review(org.rep, data)) == {"rep"}
    assert "rep" not in review(org.south_lead, data)


def test_the_review_runs_a_fixed_number_of_queries(org, data, django_assert_num_queries):
    today = data
    with django_assert_num_queries(5):
        selectors.team_review(user=org.director, date_from=today - dt.timedelta(days=30), date_to=today)
