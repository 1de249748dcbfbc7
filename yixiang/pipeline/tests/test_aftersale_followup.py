"""An E-class follow-up offers seed 001's after-sale checklist (成交之后我们应该做什么) and the
referral coaching of seeds 000–002; the API refuses a stage rise without evidence unless the
client confirms it, as the web form asks the rep to (issue 15)."""

from __future__ import annotations

import pytest
from django.utils import timezone, translation

from yixiang.aftercare.models import ReferralAsk
from yixiang.customers.models import Customer
from yixiang.errors import ValidationFailed
from yixiang.pipeline import aftersale_method, services
from yixiang.pipeline.models import FollowUp, StageChange
from yixiang.pipeline.tests.factories import set_state
from yixiang.testing import PASSWORD

SEED_CHECKLIST_ZH = [
    "关心客户，咨询效果怎么样？",
    "如客户有问题要立即把客户的建议笔记下来，及时作相应的处理",
    "随时观察老客户的经营状况",
    "经常向老客户介绍最新的产品信息（不要总是谈及生意，免得对方有压力！）",
    "要亲切、礼貌和真诚，用引导性问题争取名单",
    "大胆的要求介绍",
]
DOMAIN_PITFALLS_EN = [
    "Too shy to trouble a signed customer",
    "Forced selling",
    "One deal instead of service",
    "Not daring to ask",
]
COURAGE_ZH = "只要你敢张嘴，机会就有50%"


def signed(org, name="老客户"):
    return set_state(org.customer(org.rep, name=name), stage=5, signed_at=timezone.now())


@pytest.fixture
def as_user(client):
    def _login(user):
        client.login(username=user.username, password=PASSWORD)
        return client

    return _login


# --- The checklist as the seed words it --------------------------------------------------------


def test_the_checklist_is_seed_001s_after_sale_list_in_its_order_in_chinese_and_english():
    with translation.override("zh-hans"):
        assert [str(label) for _code, label in aftersale_method.AFTERSALE_CHECKLIST] == SEED_CHECKLIST_ZH
    outline = aftersale_method.aftersale_outline()
    assert [c["code"] for c in outline["checklist"]][-1] == "referral_asked"
    assert all(c["en"] and c["en"] != c["zh"] for c in outline["checklist"])


def test_the_coaching_says_asking_is_half_the_chance_and_names_the_four_mistakes_as_domain_does():
    outline = aftersale_method.aftersale_outline()
    assert COURAGE_ZH in outline["referral_courage"]["zh"]
    assert [p["title"]["en"] for p in outline["referral_pitfalls"]] == DOMAIN_PITFALLS_EN
    assert [p["title"]["zh"] for p in outline["referral_pitfalls"]] == [
        "已经签了客户的单，不好意思再麻烦",
        "强迫式销售",
        "销售签单只为成交一笔生意",
        "不敢开口要求转介绍",
    ]


def test_unknown_codes_are_named_and_ticks_are_kept_once_in_the_checklists_order():
    assert aftersale_method.unknown_checks(["results_asked", "bribe"]) == ["bribe"]
    assert aftersale_method.ordered_checks(["referral_asked", "results_asked", "referral_asked"]) == [
        "results_asked",
        "referral_asked",
    ]


# --- Stored on the follow-up; the referral ask recorded with it ----------------------------------


@pytest.mark.django_db
def test_the_ticks_are_stored_on_the_follow_up_and_a_referral_ask_is_recorded_with_it(org):
    c = signed(org)
    fu = services.followup_log(
        actor=org.rep,
        customer=c,
        summary="问了效果，请他介绍朋友",
        aftersale_checks=["referral_asked", "results_asked"],
    )
    assert FollowUp.objects.get(pk=fu.pk).aftersale_checks == ["results_asked", "referral_asked"]
    ask = ReferralAsk.objects.get(customer=c)
    assert (ask.follow_up_id, ask.outcome, ask.rep_id) == (fu.pk, "asked", org.rep.pk)


@pytest.mark.django_db
def test_without_the_referral_tick_no_ask_is_recorded(org):
    c = signed(org)
    services.followup_log(actor=org.rep, customer=c, aftersale_checks=["business_observed"])
    assert not ReferralAsk.objects.exists()


@pytest.mark.django_db
def test_the_checklist_belongs_to_signed_customers_and_has_only_the_seeds_items(org):
    prospect = org.customer(org.rep)
    with pytest.raises(ValidationFailed) as exc:
        services.followup_log(actor=org.rep, customer=prospect, aftersale_checks=["results_asked"])
    assert "aftersale_checks" in exc.value.errors
    with pytest.raises(ValidationFailed):
        services.followup_log(actor=org.rep, customer=signed(org), aftersale_checks=["flatter_them"])
    assert not FollowUp.objects.exists() and not ReferralAsk.objects.exists()


# --- Web: the full form and the agenda's inline log ----------------------------------------------


@pytest.mark.django_db
def test_the_e_class_follow_up_form_offers_the_checklist_and_the_coaching_and_saves_the_ticks(as_user, org):
    c = signed(org)
    client = as_user(org.rep)
    page = client.get(f"/customers/{c.pk}/follow-up/").content.decode()
    assert 'id="fs-aftersale"' in page and 'value="referral_asked"' in page
    assert COURAGE_ZH in page and "强迫式销售" in page and "大胆的要求介绍" in page
    r = client.post(
        f"/customers/{c.pk}/follow-up/",
        {"channel": "phone", "effective": "on", "stage": "5", "aftersale_checks": ["news_shared", "referral_asked"]},
    )
    assert r.status_code == 302
    assert FollowUp.objects.get(customer=c).aftersale_checks == ["news_shared", "referral_asked"]
    assert ReferralAsk.objects.filter(customer=c, outcome="asked").count() == 1
    history = client.get(f"/customers/{c.pk}/pipeline/panel/").content.decode()
    assert "✓ 大胆的要求介绍" in history and "✓ 随时观察" not in history  # the ticks, read back


@pytest.mark.django_db
def test_a_prospects_form_has_no_after_sale_checklist(as_user, org):
    c = org.customer(org.rep)
    page = as_user(org.rep).get(f"/customers/{c.pk}/follow-up/").content.decode()
    assert 'id="fs-aftersale"' not in page and 'name="aftersale_checks"' not in page


@pytest.mark.django_db
def test_the_agenda_inline_log_of_a_signed_customer_offers_and_saves_the_checklist(as_user, org):
    c = signed(org)
    client = as_user(org.rep)
    form = client.get(f"/customers/{c.pk}/follow-up/inline/").content.decode()
    assert f'id="aftersale-checks-{c.pk}"' in form and COURAGE_ZH in form
    r = client.post(
        f"/customers/{c.pk}/follow-up/inline/",
        {"channel": "phone", "effective": "on", "stage": "5", "aftersale_checks": ["results_asked"]},
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 200 and "agenda-log" not in r.content.decode()[:200]
    assert FollowUp.objects.get(customer=c).aftersale_checks == ["results_asked"]


# --- API --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_api_records_the_checklist_and_serves_it_with_the_method(org, api_as):
    c = signed(org)
    api = api_as(org.rep)
    r = api.post(f"/api/v1/customers/{c.pk}/follow-ups", {"aftersale_checks": ["names_asked", "referral_asked"]})
    assert r.status_code == 201, r.content
    assert r.json()["aftersale_checks"] == ["names_asked", "referral_asked"]
    assert ReferralAsk.objects.get(customer=c).follow_up_id == r.json()["id"]
    bad = api.post(f"/api/v1/customers/{c.pk}/follow-ups", {"aftersale_checks": ["gossip"]})
    assert bad.status_code == 400 and bad.json()["field"] == "aftersale_checks"
    method = api.get("/api/v1/method").json()["aftersale"]
    assert [i["zh"] for i in method["checklist"]] == SEED_CHECKLIST_ZH
    assert [p["title"]["en"] for p in method["referral_pitfalls"]] == DOMAIN_PITFALLS_EN


@pytest.mark.django_db
def test_the_api_refuses_a_rise_without_evidence_unless_the_client_confirms_it(org, api_as):
    c = org.customer(org.rep)
    api = api_as(org.rep)
    url = f"/api/v1/customers/{c.pk}/follow-ups"
    r = api.post(url, {"summary": "聊了聊", "stage": 2})
    assert r.status_code == 400
    assert (r.json()["code"], r.json()["field"]) == ("stage_unconfirmed", "confirm_stage")
    assert not FollowUp.objects.exists() and Customer.objects.get(pk=c.pk).stage == 0  # nothing changed
    r = api.post(url, {"summary": "聊了聊", "stage": 2, "confirm_stage": True})
    assert r.status_code == 201, r.content
    assert StageChange.objects.get(customer=c).mismatch == "no_evidence"


@pytest.mark.django_db
def test_the_api_needs_no_confirmation_with_evidence_for_a_drop_or_without_a_rise(org, api_as):
    c = org.customer(org.rep)
    api = api_as(org.rep)
    url = f"/api/v1/customers/{c.pk}/follow-ups"
    assert api.post(url, {"stage": 2, "signals": ["asks_how"]}).status_code == 201  # a ticked signal
    assert api.post(url, {"stage": 3, "summary": "客户问价格"}).status_code == 201  # a judging answer
    assert api.post(url, {"stage": 1}).status_code == 201  # a drop
    assert api.post(url, {"summary": "没接"}).status_code == 201  # the stage kept
