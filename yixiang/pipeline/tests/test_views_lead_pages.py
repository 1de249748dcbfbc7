"""A lead's recycling proposals page (approve / keep through htmx) and one rep's judgment
mismatches page, with who must not get in: a rep, a lead of another team, a director of another
region. Real HTTP through Django's client, real services behind it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from yixiang.customers.models import Customer
from yixiang.pipeline import pool, services
from yixiang.pipeline.models import OwnerChange, RecycleProposal
from yixiang.pipeline.tests.factories import days_ago, set_state
from yixiang.testing import PASSWORD, ApiClient

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def as_user(client):
    def _login(user):
        client.logout()
        client.login(username=user.username, password=PASSWORD)
        return client

    return _login


def hot_proposal(org, owner, name, stage=3, overdue=45):
    c = org.customer(owner, name=name)
    set_state(c, stage=stage, next_due_on=timezone.localdate() - dt.timedelta(days=overdue), held_since=days_ago(100))
    pool.recycle_run()
    assert RecycleProposal.objects.filter(customer=c, decided_at__isnull=True).exists()
    return Customer.objects.get(pk=c.pk)


def test_the_lead_sees_the_teams_open_proposals_with_rep_stage_days_and_why(as_user, org):
    mine = hot_proposal(org, org.rep, "考虑签约", stage=3)
    other = hot_proposal(org, org.other_team_rep, "别组客户", stage=4)
    html = as_user(org.lead1).get("/team/recycle-proposals/").content.decode()
    assert "考虑签约" in html and "别组客户" not in html
    row = html.split(f'id="recycle-{mine.pk}"')[1].split("</tr>")[0]
    assert org.rep.label in row
    assert "100" in row  # days held
    assert "逾期" in row  # why: overdue too long (zh)
    # The director sees the whole region; a director of another region sees none of it.
    html = as_user(org.director).get("/team/recycle-proposals/").content.decode()
    assert "考虑签约" in html and "别组客户" in html
    html = as_user(org.south_director).get("/team/recycle-proposals/").content.decode()
    assert "考虑签约" not in html and 'id="recycle-empty"' in html
    assert other.owner == org.other_team_rep


def test_a_rep_cannot_open_or_decide_proposals(as_user, org):
    c = hot_proposal(org, org.rep, "考虑签约")
    client = as_user(org.rep)
    assert client.get("/team/recycle-proposals/").status_code == 404
    assert client.post(f"/customers/{c.pk}/recycle-decision/", {"decision": "recycle"}).status_code == 404
    assert Customer.objects.get(pk=c.pk).owner == org.rep


def test_a_lead_of_another_team_cannot_decide(as_user, org):
    c = hot_proposal(org, org.rep, "考虑签约")
    r = as_user(org.lead2).post(f"/customers/{c.pk}/recycle-decision/", {"decision": "recycle"}, headers=HTMX)
    assert r.status_code == 404
    assert RecycleProposal.objects.get(customer=c).decided_at is None


def test_approve_releases_to_the_pool_with_the_rules_reason_and_the_note(as_user, org):
    c = hot_proposal(org, org.rep, "考虑签约")
    r = as_user(org.lead1).post(
        f"/customers/{c.pk}/recycle-decision/", {"decision": "recycle", "note": "三个月没进展"}, headers=HTMX
    )
    assert r.status_code == 200
    html = r.content.decode()
    assert html.startswith("<tr") and f'id="recycle-{c.pk}"' in html and "公海" in html
    assert Customer.objects.get(pk=c.pk).owner is None
    change = OwnerChange.objects.get(customer=c)
    assert (change.reason, change.detail, change.note, change.by) == ("recycle", "overdue", "三个月没进展", org.lead1)
    # Decided twice (another tab): a clear message, nothing changes.
    r = as_user(org.lead1).post(f"/customers/{c.pk}/recycle-decision/", {"decision": "recycle"}, headers=HTMX)
    assert r.status_code in (200, 404)
    assert OwnerChange.objects.filter(customer=c).count() == 1


def test_keep_leaves_the_customer_with_the_rep_and_keeps_the_note(as_user, org):
    c = hot_proposal(org, org.rep, "已决定签约", stage=4)
    client = as_user(org.lead1)
    r = client.post(f"/customers/{c.pk}/recycle-decision/", {"decision": "keep", "note": "下周出差回来签"})
    assert r.status_code == 302
    prop = RecycleProposal.objects.get(customer=c)
    assert (prop.decision, prop.note, prop.decided_by) == ("keep", "下周出差回来签", org.lead1)
    assert Customer.objects.get(pk=c.pk).owner == org.rep
    page = client.get("/team/recycle-proposals/").content.decode()
    assert "继续由 rep 跟进" in page  # the message, in Chinese
    assert f'id="recycle-{c.pk}"' not in page
    # An unknown decision changes nothing.
    other = hot_proposal(org, org.teammate, "另一个")
    assert client.post(f"/customers/{other.pk}/recycle-decision/", {"decision": "maybe"}).status_code == 404
    assert RecycleProposal.objects.get(customer=other).decided_at is None


def test_the_lead_home_counts_and_links_the_proposals(as_user, org):
    hot_proposal(org, org.rep, "考虑签约")
    hot_proposal(org, org.other_team_rep, "别组客户")
    html = as_user(org.lead1).get("/").content.decode()
    link = html.split('id="recycle-proposals-link"')[1].split("</a>")[0]
    assert "<strong>1</strong>" in link
    assert 'href="/team/recycle-proposals/"' in html


def test_a_managers_crowded_band_links_to_the_recycling_proposals(as_user, org, settings):
    settings.YIXIANG = {**getattr(settings, "YIXIANG", {}), "BALANCE_TARGETS": {"0": 1, "1-2": 1, "3-4": 1}}
    hot_proposal(org, org.rep, "考虑签约")
    for i in range(4):
        set_state(org.customer(org.lead1, name=f"组长客户{i}"), stage=1, last_contact_at=days_ago(1))
    html = as_user(org.lead1).get("/agenda/").content.decode()
    assert 'class="balance-next recycle-next" href="/team/recycle-proposals/"' in html
    # A rep's crowded band never offers it (a rep confirms nothing).
    for i in range(4):
        set_state(org.customer(org.rep, name=f"商务客户{i}"), stage=1, last_contact_at=days_ago(1))
    assert "recycle-next" not in as_user(org.rep).get("/agenda/").content.decode()


def test_the_api_decides_with_a_note(org):
    c = hot_proposal(org, org.rep, "已决定签约", stage=4)
    api = ApiClient(org.lead1)
    listed = api.get("/api/v1/recycle-proposals").json()
    assert [(p["customer_id"], p["owner_name"], p["note"]) for p in listed] == [(c.pk, org.rep.label, "")]
    r = api.post(f"/api/v1/customers/{c.pk}/recycle-decision", {"recycle": False, "note": "客户在出差"})
    assert r.status_code == 200 and r.json()["note"] == "客户在出差"
    assert ApiClient(org.rep).get("/api/v1/recycle-proposals").json() == []


# --- Judgment mismatches --------------------------------------------------------------------------


def _mismatches(org):
    a = set_state(org.customer(org.rep, name="没证据"), stage=0)
    b = set_state(org.customer(org.rep, name="高于证据"), stage=1)
    ok = set_state(org.customer(org.rep, name="有证据"), stage=1)
    services.followup_log(actor=org.rep, customer=a, stage=2, summary="聊得不错\n第二行")
    services.followup_log(actor=org.rep, customer=b, stage=3, signals=["asks_how"], summary="问了怎么做")
    services.followup_log(actor=org.rep, customer=ok, stage=2, signals=["compares_competitors"])
    return a, b


def test_the_lead_opens_a_reps_mismatches_with_judged_and_supported_stage(as_user, org):
    a, b = _mismatches(org)
    r = as_user(org.lead1).get(f"/team/review/{org.rep.pk}/mismatches/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "没证据" in html and "高于证据" in html and "有证据" not in html
    row_b = html.split('data-kind="above_evidence"')[1].split("</tr>")[0]
    # Judged 1 → 3; the ticked stage-2 signal supports 2; the signal is named; the note shown.
    assert "stage-3" in row_b.split("mismatch-supported")[0]
    assert "stage-2" in row_b.split("mismatch-supported")[1].split("</td>")[0]
    assert "问了怎么做" in row_b
    row_a = html.split('data-kind="no_evidence"')[1].split("</tr>")[0]
    assert "聊得不错" in row_a


def test_mismatches_are_closed_to_other_teams_and_to_a_reps_teammates(as_user, org):
    _mismatches(org)
    url = f"/team/review/{org.rep.pk}/mismatches/"
    assert as_user(org.lead2).get(url).status_code == 404
    assert as_user(org.teammate).get(url).status_code == 404
    assert as_user(org.south_director).get(url).status_code == 404
    assert as_user(org.director).get(url).status_code == 200
    assert as_user(org.rep).get(url).status_code == 200  # their own
    assert as_user(org.lead1).get("/team/review/999999/mismatches/").status_code == 404


def test_team_review_and_lead_home_link_each_reps_mismatch_figure(as_user, org):
    _mismatches(org)
    client = as_user(org.lead1)
    today = timezone.localdate().isoformat()
    html = client.get("/team/review/", {"from": today, "to": today}).content.decode()
    row = html.split(f'data-member="{org.rep.pk}"')[1].split("</tr>")[0]
    link = row.split('class="fig-mismatch"')[0].rsplit('href="', 1)[1].split('"')[0]
    assert link.startswith(f"/team/review/{org.rep.pk}/mismatches/?from={today}")
    assert '<span class="chip chip-danger">2</span>' in row.split("fig-mismatch")[1]
    listed = client.get(link.replace("&amp;", "&")).content.decode()
    assert "没证据" in listed
    home = client.get("/").content.decode()
    home_row = home.split(f'data-rep="{org.rep.pk}"')[1].split("</tr>")[0]
    assert f"/team/review/{org.rep.pk}/mismatches/" in home_row
