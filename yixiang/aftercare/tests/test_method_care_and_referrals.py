"""Care and referrals as the seeds teach them (issue 15): a rep's quick care greetings (seed 000),
regional events with their sales purpose and life events that call for a closing visit (seed 003),
Christmas and the card days in the care calendar (seed 003), the referrer thanked as soon as names
are given (seeds 001, 002), and the coaching where the rep asks (seeds 000–002)."""

from __future__ import annotations

import datetime as dt

import pytest

from yixiang.aftercare import selectors, services, services_loyalty
from yixiang.aftercare.models import CareTask, LifeEvent, RegionalEvent
from yixiang.errors import DomainError, ValidationFailed
from yixiang.pipeline import selectors as pipeline_selectors
from yixiang.testing import PASSWORD

from .factories import sign

pytestmark = pytest.mark.django_db
D = dt.date


@pytest.fixture
def as_user(client):
    def _login(user):
        client.login(username=user.username, password=PASSWORD)
        return client

    return _login


# --- Quick care: weather, illness, an elderly customer living alone ------------------------------


def test_a_rep_records_a_rain_greeting_for_their_own_customer_with_the_seeds_words(org):
    c = org.customer(org.rep, "王阿姨")
    task = services.care_quick_record(actor=org.rep, customer=c, kind="rain", note="打了电话")
    task.refresh_from_db()
    assert (task.kind, task.rep_id, task.outcome) == ("quick_care", org.rep.pk, "打了电话")
    assert task.done_at is not None and "雨天问候" in task.title and "王阿姨" in task.suggestion
    services.care_quick_record(actor=org.rep, customer=c, kind="elderly_alone")
    assert CareTask.objects.filter(customer=c, kind="quick_care").count() == 2  # each gesture is kept


def test_only_the_customers_own_rep_records_a_care_greeting_and_only_the_known_kinds(org):
    theirs = org.customer(org.teammate, "同事的客户")
    with pytest.raises(DomainError):
        services.care_quick_record(actor=org.lead1, customer=theirs, kind="snow")
    with pytest.raises(ValidationFailed):
        services.care_quick_record(actor=org.teammate, customer=theirs, kind="hail")
    assert not CareTask.objects.exists()


def test_quick_care_from_the_customer_page_and_the_api(org, as_user, api_as):
    c = org.customer(org.rep, "李大爷")
    page = as_user(org.rep).get(f"/customers/{c.pk}/aftercare/panel/").content.decode()
    assert 'id="quick-care"' in page and "空巢老人的关爱" in page
    r = as_user(org.rep).post(f"/customers/{c.pk}/aftercare/care/", {"kind": "fog"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "雾天问候" in r.content.decode()
    r = api_as(org.rep).post(f"/api/v1/customers/{c.pk}/care-actions", {"kind": "illness", "note": "感冒了"})
    assert r.status_code == 201, r.content
    assert r.json()["kind"] == "quick_care"
    assert api_as(org.teammate).post(f"/api/v1/customers/{c.pk}/care-actions", {"kind": "rain"}).status_code == 404
    assert CareTask.objects.filter(customer=c).count() == 2


# --- Regional events: death and injury, and the sales purpose -------------------------------------


def test_a_death_or_injury_in_an_area_is_a_regional_event_whose_task_explains_the_product(org):
    assert {"death", "injury", "fire", "flood", "accident"} <= set(RegionalEvent.Kind.values)
    c = org.customer(org.rep, "郑州客户", province="河南", city="郑州")
    services.regional_event_record(actor=org.lead1, kind="death", title="车祸伤亡", on=D(2025, 7, 20), city="郑州")
    task = CareTask.objects.get(customer=c, kind="regional")
    assert "拜访" in task.title
    assert "都平安吗" in task.suggestion and "诉求的重点为产品的意义与功用" in task.suggestion


# --- Life events: a prize win, and the closing visit -------------------------------------------


def test_a_prize_win_and_the_other_seed_moments_suggest_a_closing_visit(org):
    c = org.customer(org.rep, "幸运客户")
    sick = org.customer(org.rep, "病号")
    services.life_event_add(actor=org.rep, customer=c, kind=LifeEvent.Kind.PRIZE, on=D(2025, 5, 10))
    services.life_event_add(actor=org.rep, customer=sick, kind=LifeEvent.Kind.ILLNESS, on=D(2025, 5, 10))
    services.care_calendar_generate(today=D(2025, 5, 5))
    prize = CareTask.objects.get(customer=c, kind="life_event")
    assert prize.title.startswith("促成拜访") and "中奖" in prize.title and "促成拜访" in prize.suggestion
    illness = CareTask.objects.get(customer=sick, kind="life_event")
    assert "促成拜访" not in illness.title + illness.suggestion


# --- Christmas and the card days ---------------------------------------------------------------


def test_christmas_and_mothers_day_are_card_days_in_the_care_calendar_and_tasks(org):
    c = sign(org.customer(org.rep, "签约客户"))
    labels = {o.label for o in selectors.care_calendar(org.rep, D(2025, 12, 20), D(2025, 12, 31))}
    assert "圣诞节：寄贺卡" in labels
    may = {o.label for o in selectors.care_calendar(org.rep, D(2025, 5, 1), D(2025, 5, 31))}
    assert "母亲节：寄贺卡" in may
    assert [label for label in may if "端午" in label] == ["端午节"]  # only the seed's card days say so
    services.care_calendar_generate(today=D(2025, 12, 20))
    task = CareTask.objects.get(customer=c, kind="festival", occasion_on=D(2025, 12, 25))
    assert "圣诞节贺卡" in task.title and "圣诞快乐" in task.suggestion


# --- Referrals: thanks when names are given; coaching where the rep asks -------------------------


def test_names_given_get_the_referrer_thanked_at_once_not_only_when_a_name_signs(org):
    c = sign(org.customer(org.rep, "老客户"))
    services_loyalty.referral_ask_log(actor=org.rep, customer=c, prerequisites=[], outcome="declined")
    assert not CareTask.objects.filter(kind="referral_thanks").exists()
    ask = services_loyalty.referral_ask_log(
        actor=org.rep, customer=c, prerequisites=[], outcome="gave_names", names_given="张总、李总"
    )
    task = CareTask.objects.get(kind="referral_thanks")
    assert (task.customer_id, task.rep_id, task.source_key) == (c.pk, org.rep.pk, f"referral-names:{ask.pk}")
    assert task.done_at is None and "张总、李总" in task.title and "谢谢" in task.suggestion


def test_the_referral_panel_coaches_to_ask_boldly_and_names_the_four_mistakes(org, as_user):
    c = sign(org.customer(org.rep, "老客户"))
    page = as_user(org.rep).get(f"/customers/{c.pk}/aftercare/panel/").content.decode()
    assert "只要你敢张嘴，机会就有50%" in page
    for mistake in ("不好意思再麻烦", "强迫式销售", "只为成交一笔生意", "不敢开口要求转介绍"):
        assert mistake in page
    assert "Before asking, check that all of these hold" not in page
    assert 'value="asked"' not in page  # written by a follow-up's checklist, not chosen by hand


# --- Visit old customers nearby (顺便拜访) --------------------------------------------------------


def test_planning_a_visit_lists_the_reps_signed_customers_in_the_same_city(org, as_user, api_as):
    target = org.customer(org.rep, "新客户", province="河南", city="郑州")
    near = sign(org.customer(org.rep, "郑州老客户", province="河南", city="郑州", address="金水路1号"))
    sign(org.customer(org.rep, "洛阳老客户", province="河南", city="洛阳"))
    sign(org.customer(org.teammate, "同事的郑州老客户", province="河南", city="郑州"))
    org.customer(org.rep, "郑州意向客户", province="河南", city="郑州")  # not signed
    assert [c.name for c in pipeline_selectors.nearby_signed_customers(rep=org.rep, customer=target)] == ["郑州老客户"]
    page = as_user(org.rep).get(f"/customers/{target.pk}/visit-plan/").content.decode()
    assert 'id="nearby-signed"' in page and "郑州老客户" in page and "同事的郑州老客户" not in page
    r = api_as(org.rep).post(
        f"/api/v1/customers/{target.pk}/visit-plans",
        {"at": "2030-01-02T10:00:00+08:00", "place": "郑州", "purpose": "面谈", "appointment_way": "phone"},
    )
    assert r.status_code == 201, r.content
    assert r.json()["nearby_signed"] == [{"id": near.pk, "name": "郑州老客户", "address": "金水路1号"}]
    nowhere = org.customer(org.rep, "无城市")
    assert pipeline_selectors.nearby_signed_customers(rep=org.rep, customer=nowhere) == []
