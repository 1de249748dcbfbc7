"""The rep's pages through the real test client: the agenda card's contents and filters, the
inline call log, the customer page's header, its history in words and its after-sale panel."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from yixiang.aftercare.services_contracts import customer_sign
from yixiang.customers.models import CustomerChange
from yixiang.pipeline import pool, services
from yixiang.pipeline.models import FollowUp
from yixiang.pipeline.playbook import get_playbook
from yixiang.pipeline.tests.factories import set_state
from yixiang.testing import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep_client(client, org):
    client.login(username=org.rep.username, password=PASSWORD)
    return client


def _history(client, customer) -> str:
    html = client.get(f"/customers/{customer.pk}/").content.decode()
    section = html[html.index('id="history"') :]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section[: section.index("</section>")]))


def test_the_agenda_card_shows_number_note_and_the_call_guide(rep_client, org):
    today = timezone.localdate()
    c = set_state(org.customer(org.rep, name="王老板", phone="13800138000"), stage=2, next_due_on=today)
    services.followup_log(actor=org.rep, customer=c, summary="问了价格\n第二行不显示")
    set_state(c, next_due_on=today - dt.timedelta(days=3))
    html = rep_client.get("/agenda/").content.decode()
    assert 'href="tel:13800138000"' in html and 'data-copy="13800138000"' in html
    assert "问了价格" in html and "第二行不显示" not in html
    assert "3 天逾期" in html or "逾期 3 天" in html
    guide = html[html.index('class="agenda-guide"') :]
    guide = guide[: guide.index("</details>")]
    pb = get_playbook()
    assert pb.guide(2).questions[0] in guide and pb.lift_tips(2)[0] in guide  # this stage's questions, tips to 3
    assert 'id="agenda-left"' in html


def test_agenda_filters_by_band_overdue_and_stage(rep_client, org):
    today = timezone.localdate()
    set_state(org.customer(org.rep, name="甲"), stage=3, next_due_on=today)
    set_state(org.customer(org.rep, name="乙"), stage=1, next_due_on=today - dt.timedelta(days=2))
    set_state(org.customer(org.rep, name="丙"), stage=0, next_due_on=today)

    def names(query):
        html = rep_client.get(f"/agenda/{query}").content.decode()
        return re.findall(r'class="agenda-name">([^<]+)<', html)

    assert names("") == ["甲", "乙", "丙"]
    assert names("?band=1-2") == ["乙"]
    assert names("?overdue=1") == ["乙"]
    assert names("?stage=0") == ["丙"]
    assert names("?band=nonsense&stage=x") == ["甲", "乙", "丙"]  # unknown filters are ignored
    assert "is-compact" in rep_client.get("/agenda/?view=compact").content.decode()


def test_the_inline_log_saves_through_the_follow_up_service(rep_client, org):
    today = timezone.localdate()
    c = set_state(org.customer(org.rep, name="王老板"), stage=1, next_due_on=today)
    form = rep_client.get(f"/customers/{c.pk}/follow-up/inline/").content.decode()
    assert 'name="signals"' in form and f'id="proposals-{c.pk}"' in form
    r = rep_client.post(
        f"/customers/{c.pk}/follow-up/inline/",
        {"channel": "phone", "effective": "on", "signals": ["asks_results"], "apply_stage": "2", "stage": "1"},
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 200 and r["HX-Retarget"] == f"#card-{c.pk}"
    assert 'id="agenda-left"' in r.content.decode() and "0" in r.content.decode()
    fu = FollowUp.objects.get(customer=c)
    assert (fu.stage_after, fu.signals) == (2, ["asks_results"])


def test_the_inline_log_refuses_a_customer_of_someone_else(rep_client, org):
    c = set_state(org.customer(org.other_team_rep, name="别组"), stage=1)
    r = rep_client.post(f"/customers/{c.pk}/follow-up/inline/", {"channel": "phone", "stage": "2"})
    assert r.status_code == 404 and not FollowUp.objects.filter(customer=c).exists()


def test_an_inline_log_with_a_bad_stage_shows_the_error_and_saves_nothing(rep_client, org):
    c = set_state(org.customer(org.rep, name="王老板"), stage=1, next_due_on=timezone.localdate())
    r = rep_client.post(f"/customers/{c.pk}/follow-up/inline/", {"channel": "phone", "stage": "9"})
    assert r.status_code == 200 and "msg-error" in r.content.decode()
    assert not FollowUp.objects.filter(customer=c).exists()


def test_the_history_shows_follow_up_changes_in_words(rep_client, org):
    today = timezone.localdate()
    c = set_state(org.customer(org.rep, name="蒋然"), stage=2, grade="D", next_due_on=today)
    services.followup_log(
        actor=org.rep, customer=c, stage=3, grade="B", next_contact_on=today + dt.timedelta(days=5), summary="问价格"
    )
    change = CustomerChange.objects.filter(customer=c, action=CustomerChange.Action.UPDATE).latest("at")
    assert change.changes["stage"] == [2, 3] and change.changes["grade"] == ["D", "B"]
    text = _history(rep_client, c)
    assert "记录跟进" in text or "跟进" in text
    assert "2阶段" in text and "3阶段" in text
    assert "等级" in text and "下次联系" in text
    assert "followup" not in text


def test_the_history_says_why_a_customer_was_released_in_words(rep_client, org, client):
    c = set_state(org.customer(org.rep, name="唐强"), stage=1)
    pool.customer_release(actor=org.rep, customer=c, reason="no_rise")
    text = _history(rep_client, c)
    assert "踢出原因" in text and "多次联系意向不升" in text
    assert "release:" not in text and "no_rise" not in text
    assert "公海" in text  # the new owner is the pool, not "—"


def test_after_sale_panels_only_for_signed_customers_and_no_preset_loyalty(rep_client, org):
    prospect = set_state(org.customer(org.rep, name="潜在客户", phone="13900139000"), stage=3)
    html = rep_client.get(f"/customers/{prospect.pk}/").content.decode()
    assert "aftercare-panel-slot" not in html
    assert 'id="head-log-followup"' in html and 'id="head-phone"' in html and "phone-actionbar" in html

    signed = org.customer(org.rep, name="已签客户")
    customer_sign(actor=org.rep, customer=signed, amount="50000")
    assert "aftercare-panel-slot" in rep_client.get(f"/customers/{signed.pk}/").content.decode()
    panel = rep_client.get(f"/customers/{signed.pk}/aftercare/panel/").content.decode()
    select = panel[panel.index('name="level"') :]
    select = select[: select.index("</select>")]
    assert '<option value="" selected disabled>' in select
    assert select.count(" selected") == 1  # nothing else is preselected


def test_an_overdue_next_contact_is_red_in_the_header(rep_client, org):
    c = set_state(
        org.customer(org.rep, name="逾期客户"), stage=2, next_due_on=timezone.localdate() - dt.timedelta(days=2)
    )
    html = rep_client.get(f"/customers/{c.pk}/").content.decode()
    head = html[html.index('id="head-next-due"') - 60 :]
    assert "is-overdue-date" in head[:200]


def test_an_inline_rise_without_evidence_asks_to_confirm_and_saves_once_confirmed(rep_client, org):
    c = set_state(org.customer(org.rep, name="王老板"), stage=1, next_due_on=timezone.localdate())
    url = f"/customers/{c.pk}/follow-up/inline/"
    r = rep_client.post(url, {"channel": "phone", "effective": "on", "stage": "3"}, HTTP_HX_REQUEST="true")
    assert f'id="confirm-stage-{c.pk}"' in r.content.decode()  # the confirmation is offered in the card
    assert not FollowUp.objects.filter(customer=c).exists()
    rep_client.post(
        url, {"channel": "phone", "effective": "on", "stage": "3", "confirm_stage": "on"}, HTTP_HX_REQUEST="true"
    )
    assert FollowUp.objects.get(customer=c).stage_after == 3
