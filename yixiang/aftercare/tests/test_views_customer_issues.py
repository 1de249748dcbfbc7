"""The complaint / dispute / suggestion panel on a signed customer's page (issue 15): record one
(kind, what, who handles it), see it open on the handler's agenda, mark it resolved — through the
panel's htmx forms, with who must not get in and bad input refused with nothing changed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from yixiang.aftercare.models import CustomerIssue
from yixiang.testing import PASSWORD

from .factories import sign

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def login(user) -> Client:
    c = Client()
    assert c.login(username=user.username, password=PASSWORD)
    return c


@pytest.fixture
def customer(org):
    return sign(org.customer(org.rep, "签约客户"))


def url(customer, action):
    return f"/customers/{customer.pk}/aftercare/{action}/"


def test_record_an_issue_for_the_lead_and_resolve_it(org, customer):
    rep = login(org.rep)
    panel = rep.get(f"/customers/{customer.pk}/aftercare/panel/").content.decode()
    form = panel.split('id="issue-form"')[1].split("</details>")[0]
    # The rep may hand it to themself or to their lead, nobody from another team.
    assert f'value="{org.rep.pk}"' in form and f'value="{org.lead1.pk}"' in form
    assert f'value="{org.lead2.pk}"' not in form and f'value="{org.outsider.pk}"' not in form
    r = rep.post(
        url(customer, "issue"), {"kind": "dispute", "what": "扣费有争议", "handler": org.lead1.pk}, headers=HTMX
    )
    assert r.status_code == 200
    issue = CustomerIssue.objects.get(customer=customer)
    assert (issue.kind, issue.what, issue.handler, issue.recorded_by) == ("dispute", "扣费有争议", org.lead1, org.rep)
    html = r.content.decode()
    row = html.split(f'id="issue-{issue.pk}"')[1].split("</li>")[0]
    assert "纠纷" in row and "扣费有争议" in row and "未解决" in row and 'name="resolution"' in row
    # Open: on the lead's agenda until resolved.
    assert "扣费有争议" in login(org.lead1).get("/agenda/").content.decode()
    r = rep.post(url(customer, "issue_resolve"), {"issue": issue.pk, "resolution": "退回多扣的费用"}, headers=HTMX)
    assert r.status_code == 200
    issue.refresh_from_db()
    assert issue.resolved_at is not None and issue.resolution == "退回多扣的费用"
    row = r.content.decode().split(f'id="issue-{issue.pk}"')[1].split("</li>")[0]
    assert "退回多扣的费用" in row and 'name="resolution"' not in row
    assert "扣费有争议" not in login(org.lead1).get("/agenda/").content.decode()


def test_bad_input_is_refused_in_chinese_and_changes_nothing(org, customer):
    rep = login(org.rep)
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    cases = [
        ({"kind": "complaint", "what": "  ", "handler": org.rep.pk}, "请写明客户提出的内容"),
        ({"kind": "praise", "what": "好", "handler": org.rep.pk}, "请选择投诉、纠纷或建议"),
        ({"kind": "complaint", "what": "效果差", "handler": org.outsider.pk}, "请选择处理人"),
        ({"kind": "complaint", "what": "效果差", "handler": org.rep.pk, "raised_on": tomorrow}, "不能晚于今天"),
    ]
    for post, words in cases:
        r = rep.post(url(customer, "issue"), post, headers=HTMX)
        assert r.status_code == 200 and words in r.content.decode(), post
    assert not CustomerIssue.objects.exists()
    # Resolving needs words, and only this customer's issues.
    other = sign(org.customer(org.rep, "另一位"))
    rep.post(url(other, "issue"), {"kind": "suggestion", "what": "多发报表", "handler": org.rep.pk}, headers=HTMX)
    theirs = CustomerIssue.objects.get(customer=other)
    r = rep.post(url(customer, "issue_resolve"), {"issue": theirs.pk, "resolution": "好"}, headers=HTMX)
    assert "找不到这条投诉、纠纷或建议" in r.content.decode()
    r = rep.post(url(other, "issue_resolve"), {"issue": theirs.pk, "resolution": " "}, headers=HTMX)
    assert "请写明如何解决" in r.content.decode()
    theirs.refresh_from_db()
    assert theirs.resolved_at is None


def test_outsiders_and_other_teams_cannot_record_or_resolve(org, customer):
    for user in (org.outsider, org.lead2, org.other_team_rep):
        r = login(user).post(
            url(customer, "issue"), {"kind": "complaint", "what": "x", "handler": user.pk}, headers=HTMX
        )
        assert r.status_code == 404, user
    assert not CustomerIssue.objects.exists()
