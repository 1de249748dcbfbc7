"""The pipeline pages through the real test client: who gets in, what they see, what a POST does."""

import datetime as dt

import pytest
from django.utils import timezone

from yixiang.customers.models import Customer
from yixiang.pipeline import services
from yixiang.pipeline.models import FollowUp, NeedCategory, OwnerChange, VisitPlan
from yixiang.pipeline.tests.factories import set_state
from yixiang.testing import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_user(client):
    def _login(user):
        client.login(username=user.username, password=PASSWORD)
        return client

    return _login


def test_pages_need_a_login(client, org):
    for url in ("/agenda/", "/pool/", "/team/review/", "/distribute/"):
        r = client.get(url)
        assert r.status_code == 302 and "/login/" in r["Location"], url


def test_a_rep_lands_on_the_agenda(as_user, org):
    r = as_user(org.rep).get("/")
    assert r.status_code == 302 and r["Location"] == "/agenda/"


def test_the_agenda_lists_due_customers_in_order(as_user, org, django_assert_max_num_queries):
    hot = set_state(org.customer(org.rep, name="热客户"), stage=3, next_due_on=timezone.localdate())
    set_state(org.customer(org.rep, name="冷客户"), stage=0, next_due_on=timezone.localdate() - dt.timedelta(days=3))
    set_state(org.customer(org.teammate, name="别人的"), next_due_on=timezone.localdate())
    for i in range(10):  # enough rows that a query per customer would break the pin below
        set_state(org.customer(org.rep, name=f"客户{i}"), stage=i % 5, next_due_on=timezone.localdate())
    client = as_user(org.rep)
    with django_assert_max_num_queries(12):
        r = client.get("/agenda/")
    html = r.content.decode()
    assert r.status_code == 200
    assert html.index("热客户") < html.index("冷客户")
    assert "别人的" not in html
    assert f"/customers/{hot.pk}/follow-up/" in html


def test_the_follow_up_form_shows_signals_questions_and_tips_for_this_and_the_next_stage(as_user, org):
    c = set_state(org.customer(org.rep), stage=2)
    html = as_user(org.rep).get(f"/customers/{c.pk}/follow-up/").content.decode()
    assert "询问效果" in html  # a stage-2 signal
    assert "询问价格" in html  # a stage-3 signal (the next stage)
    assert "递交合同等成交信号" in html  # stage-3 judging test
    assert "明确决策人" in html  # how to lift 2 → 3
    assert 'name="stage"' in html


def test_posting_the_form_logs_the_follow_up_and_goes_back(as_user, org):
    c = org.customer(org.rep)
    r = as_user(org.rep).post(
        f"/customers/{c.pk}/follow-up/",
        {
            "channel": "phone",
            "effective": "on",
            "summary": "问了价格",
            "signals": ["asks_price"],
            "stage": "3",
            "next": "/agenda/",
        },
    )
    assert r.status_code == 302 and r["Location"] == "/agenda/"
    fu = FollowUp.objects.get(customer=c)
    assert (fu.stage_after, fu.proposed_stage_signals, fu.proposed_stage_text) == (3, 3, 3)


def test_a_future_time_shows_the_error_and_saves_nothing(as_user, org):
    c = org.customer(org.rep)
    future = (timezone.localtime() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    r = as_user(org.rep).post(f"/customers/{c.pk}/follow-up/", {"at": future, "channel": "phone", "stage": "1"})
    assert r.status_code == 200
    assert 'id="form-errors"' in r.content.decode()
    assert not FollowUp.objects.exists()


def test_the_live_proposal_fragment(as_user, org):
    c = org.customer(org.rep)
    r = as_user(org.rep).post(f"/customers/{c.pk}/follow-up/proposal/", {"signals": ["asks_how"], "summary": "带合同"})
    html = r.content.decode()
    assert r.status_code == 200 and 'data-stage="2"' in html and 'data-stage="4"' in html and "合同" in html


def test_out_of_scope_pages_are_404(as_user, org):
    theirs = org.customer(org.outsider)
    client = as_user(org.rep)
    assert client.get(f"/customers/{theirs.pk}/follow-up/").status_code == 404
    assert client.get(f"/customers/{theirs.pk}/pipeline/panel/").status_code == 404
    assert client.post(f"/customers/{theirs.pk}/follow-up/proposal/").status_code == 404
    assert client.get(f"/customers/{theirs.pk}/visit-plan/").status_code == 404
    for action in ("claim", "release", "sign", "lock", "keep", "profile"):
        assert client.post(f"/customers/{theirs.pk}/{action}/").status_code == 404, action
    assert Customer.objects.get(pk=theirs.pk).owner == org.outsider


def test_the_panel_shows_history_and_the_right_buttons(as_user, org):
    c = org.customer(org.rep, name="面板客户")
    services.followup_log(actor=org.rep, customer=c, stage=1, summary="愿意听", signals=["interacts"])
    html = as_user(org.rep).get(f"/customers/{c.pk}/pipeline/panel/").content.decode()
    assert "愿意听" in html and "有互动" in html  # the summary and the signal's text
    assert 'id="log-followup"' in html and 'id="release-box"' in html and 'id="sign-box"' in html
    assert "用销售工具" in html  # how to lift 1 → 2
    pooled = org.customer(None, name="公海")
    html = as_user(org.teammate).get(f"/customers/{pooled.pk}/pipeline/panel/").content.decode()
    assert 'id="claim-button"' in html and 'id="log-followup"' not in html


def test_claim_and_release_through_the_pages(as_user, org):
    c = org.customer(None)
    client = as_user(org.rep)
    r = client.post(f"/customers/{c.pk}/claim/", {"next": "/pool/"})
    assert r.status_code == 302 and r["Location"] == "/pool/"
    assert Customer.objects.get(pk=c.pk).owner == org.rep
    client.post(f"/customers/{c.pk}/release/", {"reason": "pushed_too_hard"})
    assert Customer.objects.get(pk=c.pk).owner is None
    r = client.post(f"/customers/{c.pk}/claim/", {"next": "/pool/"}, follow=True)
    assert "30" in r.content.decode()  # the refusal names the 30-day wait
    assert list(OwnerChange.objects.filter(customer=c).values_list("reason", flat=True)) == ["release", "claim"]


def test_an_unsafe_next_is_ignored(as_user, org):
    c = org.customer(None)
    r = as_user(org.rep).post(f"/customers/{c.pk}/claim/", {"next": "https://evil.example/"})
    assert r.status_code == 302 and "evil" not in r["Location"]


def test_sign_and_lock_through_the_panel_forms(as_user, org):
    c = org.customer(org.rep)
    client = as_user(org.rep)
    client.post(f"/customers/{c.pk}/lock/", {"locked": "1"})
    assert Customer.objects.get(pk=c.pk).recycle_locked
    client.post(f"/customers/{c.pk}/sign/", {"amount": "7950", "paid_amount": "7950"})
    c.refresh_from_db()
    assert c.stage == 5 and not c.recycle_locked


def test_pool_page_and_its_claim_buttons(as_user, org):
    org.customer(None, name="公海客户甲")
    org.customer(org.teammate, name="有主客户")
    html = as_user(org.rep).get("/pool/").content.decode()
    assert "公海客户甲" in html and "有主客户" not in html


def test_visit_plan_page(as_user, org):
    c = org.customer(org.rep)
    at = (timezone.localtime() + dt.timedelta(days=1)).strftime("%Y-%m-%dT10:00")
    r = as_user(org.rep).post(
        f"/customers/{c.pk}/visit-plan/",
        {
            "at": at,
            "place": "客户公司",
            "purpose": "演示效果",
            "appointment_way": "through_someone",
            "materials": "合同",
        },
    )
    assert r.status_code == 302
    plan = VisitPlan.objects.get(customer=c)
    assert (plan.purpose, plan.appointment_way, plan.rep) == ("演示效果", "through_someone", org.rep)


def test_distribution_page_is_for_managers(as_user, org):
    leads = [org.customer(None, name=f"名单{i}") for i in range(2)]
    assert as_user(org.rep).get("/distribute/").status_code == 404
    client = as_user(org.lead1)
    assert client.get("/distribute/").status_code == 200
    deadline = (timezone.localtime() + dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    r = client.post(
        "/distribute/",
        {
            "customer_ids": [c.pk for c in leads],
            "method": "round_robin",
            "rep_ids": [org.rep.pk, org.teammate.pk],
            "first_contact_by": deadline,
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    assert {Customer.objects.get(pk=c.pk).owner for c in leads} == {org.rep, org.teammate}


def test_distribution_by_hand_on_the_page(as_user, org):
    lead = org.customer(None, name="手工分配")
    deadline = (timezone.localtime() + dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    r = as_user(org.lead1).post(
        "/distribute/",
        {
            "customer_ids": [lead.pk],
            "method": "by_hand",
            f"rep_for_{lead.pk}": org.teammate.pk,
            "first_contact_by": deadline,
        },
    )
    assert r.status_code == 302
    assert Customer.objects.get(pk=lead.pk).owner == org.teammate


def test_team_review_page_scoped(as_user, org):
    c = org.customer(org.rep)
    services.followup_log(actor=org.rep, customer=c, stage=1)
    html = as_user(org.lead1).get("/team/review/").content.decode()
    assert 'id="review-table"' in html and "teammate" in html and "other_team_rep" not in html


def test_need_categories_are_edited_by_admins(as_user, org):
    assert as_user(org.rep).get("/need-categories/").status_code == 404
    client = as_user(org.admin)
    r = client.post(
        "/need-categories/", {"name": "网络推广", "products": "搜索推广\n网站建设", "sort_order": 1, "active": "on"}
    )
    assert r.status_code == 302
    cat = NeedCategory.objects.get()
    assert cat.product_list == ["搜索推广", "网站建设"]
    c = org.customer(org.rep)
    as_user(org.rep).post(f"/customers/{c.pk}/profile/", {"need_category": cat.pk, "internet_awareness": "low"})
    html = as_user(org.rep).get(f"/customers/{c.pk}/pipeline/panel/").content.decode()
    assert "网络推广" in html and "搜索推广" in html


def test_a_lead_hands_a_customer_over_from_the_panel(as_user, org):
    c = org.customer(org.rep, name="移交客户")
    assert 'id="hand-over-box"' not in as_user(org.rep).get(f"/customers/{c.pk}/pipeline/panel/").content.decode()
    client = as_user(org.lead1)
    assert 'id="hand-over-box"' in client.get(f"/customers/{c.pk}/pipeline/panel/").content.decode()
    client.post(f"/customers/{c.pk}/hand-over/", {"to_user": org.teammate.pk, "note": "休假"})
    assert Customer.objects.get(pk=c.pk).owner == org.teammate
    assert OwnerChange.objects.get(customer=c).reason == "handover"
    client.post(f"/customers/{c.pk}/hand-over/", {"to_user": org.outsider.pk})  # out of scope: refused
    assert Customer.objects.get(pk=c.pk).owner == org.teammate


def test_the_panel_shows_the_latest_follow_ups_and_loads_older_ones_on_request(as_user, org):
    c = org.customer(org.rep, name="老客户")
    now = timezone.now()
    for i in range(63):
        services.followup_log(
            actor=org.rep,
            customer=Customer.objects.get(pk=c.pk),
            at=now - dt.timedelta(hours=100 - i),
            summary=f"第{i}次",
        )
    client = as_user(org.rep)
    html = client.get(f"/customers/{c.pk}/pipeline/panel/").content.decode()
    assert html.count('class="fu-summary"') == 10 and "第62次" in html and "第53次" in html and "第52次" not in html
    more = f"/customers/{c.pk}/pipeline/history/follow_ups/?offset=10"
    assert more in html
    older = client.get(more).content.decode()
    assert older.count('class="fu-summary"') == 50 and "第52次" in older and "第3次" in older and "第2次" not in older
    assert "?offset=60" in older
    last = client.get(f"/customers/{c.pk}/pipeline/history/follow_ups/?offset=60").content.decode()
    assert last.count('class="fu-summary"') == 3 and "第0次" in last and "offset=" not in last
    assert client.get(f"/customers/{c.pk}/pipeline/history/nothing/").status_code == 404
    assert client.get(f"/customers/{c.pk}/pipeline/history/follow_ups/?offset=x").status_code == 200
    theirs = org.customer(org.outsider)
    assert client.get(f"/customers/{theirs.pk}/pipeline/history/follow_ups/").status_code == 404


def test_the_panel_shows_the_need_category_and_an_open_release_proposal(as_user, org):
    from yixiang.pipeline.models import CustomerProfile, ReleaseProposal

    c = org.customer(org.rep, name="画像客户")
    need = NeedCategory.objects.create(name="测试需求类别", products="产品甲")
    CustomerProfile.objects.update_or_create(customer=c, defaults={"need_category": need})
    proposal = ReleaseProposal.objects.create(customer=c, owner=org.rep, reason="no_rise", contacts=6)
    client = as_user(org.rep)
    html = client.get(f"/customers/{c.pk}/pipeline/panel/").content.decode()
    assert "测试需求类别" in html and "产品甲" in html and "建议踢出" in html
    ReleaseProposal.objects.filter(pk=proposal.pk).update(dismissed_at=timezone.now())
    html = client.get(f"/customers/{c.pk}/pipeline/panel/").content.decode()
    assert "测试需求类别" in html and "建议踢出" not in html
    bare = org.customer(org.rep, name="无画像")
    CustomerProfile.objects.filter(customer=bare).delete()
    assert "建议踢出" not in client.get(f"/customers/{bare.pk}/pipeline/panel/").content.decode()
