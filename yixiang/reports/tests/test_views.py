"""Report pages: who gets in, what they see, and the .xlsx exports read back."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from yixiang.accounts.models import AuditEvent
from yixiang.reports.rules import STAGES
from yixiang.reports.tests import data
from yixiang.testing import PASSWORD

pytestmark = pytest.mark.django_db

PAGES = ["reports", "reports_activity", "reports_aftercare", "reports_incentives", "reports_weekly"]


def client_for(user) -> Client:
    c = Client()
    assert c.login(username=user.username, password=PASSWORD)
    return c


@pytest.mark.parametrize("name", PAGES + ["reports_subscriptions"])
def test_pages_need_a_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize("name", PAGES)
def test_every_page_renders_for_every_role(org, name):
    data.build(org)
    for user in (org.rep, org.lead1, org.director, org.admin):
        response = client_for(user).get(reverse(name), {"from": "2025-01-01", "to": "2025-02-28"})
        assert response.status_code == 200, (name, user.username)


def test_pipeline_page_shows_the_past_funnel_of_the_scope_only(org):
    data.build(org)
    response = client_for(org.lead1).get(
        reverse("reports"), {"date": "2025-01-31", "from": "2025-01-01", "to": "2025-01-31"}
    )
    body = response.content.decode()
    assert 'data-chart="funnel"' in body and 'id="funnel-data"' in body
    funnel = response.context["data"]["funnel"]
    assert funnel["as_of"] == "2025-01-31"
    assert {r["name"] for r in funnel["reps"]} == {"rep", "teammate"}
    assert "other_team_rep" not in body and "outsider" not in body
    # The rep sees only themself; no rep/team/region pickers.
    response = client_for(org.rep).get(reverse("reports"))
    assert [r["name"] for r in response.context["data"]["funnel"]["reps"]] == ["rep"]
    assert 'name="rep"' not in response.content.decode()


def test_out_of_scope_filters_are_not_found(org):
    data.build(org)
    assert client_for(org.rep).get(reverse("reports"), {"rep": org.teammate.pk}).status_code == 404
    assert client_for(org.lead1).get(reverse("reports_activity"), {"team": org.n2.pk}).status_code == 404
    assert client_for(org.director).get(reverse("reports_aftercare"), {"region": org.south.pk}).status_code == 404
    assert client_for(org.lead1).get(reverse("reports_weekly"), {"rep": org.outsider.pk}).status_code == 404


def test_bad_filters_say_why_and_fall_back(org):
    response = client_for(org.rep).get(reverse("reports"), {"from": "2025-03-01", "to": "2025-02-01"})
    assert response.status_code == 200
    assert "from" in response.context["form"].errors


def test_export_xlsx_reads_back_and_is_audited(org):
    data.build(org)
    c = client_for(org.lead1)
    response = c.get(
        reverse("reports_export", args=["funnel"]), {"date": "2025-01-31", "from": "2025-01-01", "to": "2025-01-31"}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(b"".join(response.streaming_content) if response.streaming else response.content))
    ws = wb.worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    by_name = {r[1]: r for r in rows[1:]}
    stage2 = 2 + STAGES.index(2)  # columns: kind, name, then one per stage from rejecting to E
    assert by_name["rep"][stage2] == 1 and by_name["teammate"][stage2] == 1
    assert by_name["北一组"][stage2] == 2
    assert "other_team_rep" not in by_name
    assert AuditEvent.objects.filter(actor=org.lead1, action="report.export", target_id="funnel").count() == 1
    # Every section exports; an unknown one is not found.
    for section in ("movement", "activity", "aftercare", "incentives"):
        assert c.get(reverse("reports_export", args=[section])).status_code == 200
    assert c.get(reverse("reports_export", args=["secrets"])).status_code == 404


def test_win_probability_fragment(org, settings):
    built = data.build(org)
    settings.YIXIANG = {**settings.YIXIANG, "WIN_RATE_MIN_SAMPLE": 1}
    response = client_for(org.rep).get(reverse("reports_win_probability", args=[built.c2.pk]))
    assert response.status_code == 200
    # The rep's history: in stage 1 were 甲 (signed), 乙, 庚 → 33 %.
    assert "33%" in response.content.decode()
    assert client_for(org.rep).get(reverse("reports_win_probability", args=[built.c5.pk])).status_code == 404
    assert client_for(org.outsider).get(reverse("reports_win_probability", args=[built.c2.pk])).status_code == 404


@pytest.mark.parametrize(
    "name,limit", [("reports", 10), ("reports_activity", 30), ("reports_aftercare", 17), ("reports_weekly", 22)]
)
def test_page_queries_do_not_grow_with_rows(org, django_assert_max_num_queries, name, limit):
    data.build(org)
    c = client_for(org.admin)
    with django_assert_max_num_queries(limit):
        assert c.get(reverse(name)).status_code == 200
    for i in range(25):
        cust = data.customer(org, org.teammate, f"多{i}", created=data.at(1, 1), stage=1)
        data.change(cust, data.at(1, 3), 0, 1, org.teammate)
    with django_assert_max_num_queries(limit):
        assert c.get(reverse(name)).status_code == 200
