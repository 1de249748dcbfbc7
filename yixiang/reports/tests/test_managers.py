"""Issue 14, a lead's and a director's day: who is behind, the customers behind each figure, and
accuracy that agrees between the weekly one-pager and the per-rep rows."""

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from yixiang.aftercare import services_contracts
from yixiang.pipeline import services
from yixiang.pipeline.tests.factories import set_state
from yixiang.reports import managers
from yixiang.reports.selectors import ReportFilters
from yixiang.reports.weekly_figures import weekly

pytestmark = pytest.mark.django_db


@pytest.fixture
def week(org, settings):
    """rep: two overdue, one due today, a stage-3 judgment that signed in time (right) and one
    still pending; teammate: one overdue, one effective call."""
    settings.YIXIANG = {**settings.YIXIANG, "ACCURACY_SIGN_WITHIN_DAYS": 1, "FOLLOWUP_BACKDATE_DAYS": 400}
    today = timezone.localdate()
    monday = today - dt.timedelta(days=today.weekday())
    log = services.followup_log
    rep, mate = org.rep, org.teammate
    a = org.customer(rep, name="甲")
    b = org.customer(rep, name="乙")
    c = org.customer(rep, name="丙")
    d = org.customer(mate, name="丁")
    e = org.customer(rep, name="戊")
    # Early on Monday, right after midnight: never a follow-up in the future.
    start = min(
        timezone.make_aware(dt.datetime.combine(monday, dt.time(0, 30))), timezone.now() - dt.timedelta(seconds=30)
    )
    log(actor=rep, customer=a, at=start, stage=3)
    services_contracts.customer_sign(actor=rep, customer=a, amount="20000", signed_on=monday)  # right
    log(actor=rep, customer=e, at=timezone.now() - dt.timedelta(minutes=5), stage=3)  # pending
    log(actor=mate, customer=d, at=timezone.now() - dt.timedelta(minutes=5))
    set_state(b, next_due_on=today - dt.timedelta(days=2))
    set_state(c, next_due_on=today - dt.timedelta(days=1))
    set_state(e, next_due_on=today)
    set_state(d, next_due_on=today - dt.timedelta(days=4))
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "today": today, "monday": monday}


def test_lead_home_rows_most_behind_first(org, week):
    home = managers.team_home(user=org.lead1)
    assert [r.name for r in home.rows] == ["rep", "teammate"]  # the lead is no row of his own
    rep, mate = home.rows
    assert (rep.overdue, rep.due_today, mate.overdue) == (2, 1, 1)
    assert home.overdue == 3 and home.behind is rep
    assert (rep.hot_right, rep.hot_decided, rep.hot_pending, rep.hot_accuracy) == (1, 1, 1, 1.0)
    assert rep.moves == 3  # 0→3 twice, 3→signed
    assert mate.effective == 1


def _names(client: Client, url: str) -> set[str]:
    html = client.get(url).content.decode()
    return set(re.findall(r'<a [^>]*href="/customers/\d+/"[^>]*>\s*([^<]+?)\s*<', html))


def test_every_figure_lists_the_customers_behind_it(org, week):
    client = Client()
    client.force_login(org.lead1)
    links = managers.team_home(user=org.lead1).rows[0].links
    assert _names(client, links["overdue"]) == {"乙", "丙"}
    assert _names(client, links["today"]) == {"戊"}
    assert _names(client, links["hot"]) == {"甲", "戊"}
    assert _names(client, links["signed"]) == {"甲"}
    assert _names(client, links["effective"]) == {"甲", "戊"}
    # The review's links say the same, for its own period.
    html = client.get(reverse("team_review")).content.decode()
    assert "due=overdue" in html and "did=hot" in html


def test_a_rep_cannot_list_another_reps_customers_through_the_links(org, week):
    client = Client()
    client.force_login(org.other_team_rep)
    links = managers.member_links(org.rep.pk, week["monday"], week["today"])
    assert _names(client, links["hot"]) == set()


def test_weekly_headline_agrees_with_the_rows(org, week):
    report = weekly(user=org.lead1, f=ReportFilters.default(), day=week["today"])
    rows = [m.hot_accuracy for m in report.members if m.hot_accuracy is not None]
    # Before: right / every judgment (pending included) = 1/2 = 50 % beside a row of 100 %.
    assert rows == [1.0]
    assert report.totals["hot_accuracy"] == 1.0


def test_lead_home_page_links_the_most_behind_rep(org, week):
    client = Client()
    client.force_login(org.lead1)
    html = client.get(reverse("home")).content.decode()
    assert 'id="team-overdue"' in html and "<strong>3</strong>" in html
    assert f"owner={org.rep.pk}&amp;due=overdue" in html


def test_a_leads_empty_agenda_does_not_congratulate_a_team_behind(org, week):
    client = Client()
    client.force_login(org.lead1)
    html = client.get(reverse("agenda"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "干得好" not in html and 'id="team-behind-link"' in html
    client.force_login(org.lead2)  # team 2 has nobody behind: the congratulation stays
    assert 'id="team-behind-link"' not in client.get(reverse("agenda")).content.decode()


def test_director_home_by_team(org, week):
    region = managers.region_home(user=org.director)
    by_name = {t.name: t for t in region.teams}
    assert by_name["北一组"].overdue == 3 and by_name["北一组"].reps == 2
    assert by_name["北二组"].overdue == 0
    client = Client()
    client.force_login(org.director)
    html = client.get(reverse("home")).content.decode()
    assert 'id="region-teams"' in html and 'id="incentive-position"' in html
