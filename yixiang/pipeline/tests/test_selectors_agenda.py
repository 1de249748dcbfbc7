"""The daily agenda: what is on it, in which order, and in how many queries."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from yixiang.pipeline import selectors, services
from yixiang.pipeline.tests.factories import days_ago, set_state

pytestmark = pytest.mark.django_db


def due(org, name, stage, days_overdue, owner=None):
    c = org.customer(owner or org.rep, name=name)
    return set_state(
        c,
        stage=stage,
        next_due_on=timezone.localdate() - dt.timedelta(days=days_overdue),
        held_since=days_ago(5),
        last_contact_at=days_ago(days_overdue + 3),
    )


def test_overdue_and_due_customers_stage_3_4_first_then_1_2_0_e(org):
    due(org, "零阶段", 0, 4)
    due(org, "E类", 5, 9)
    due(org, "二阶段", 2, 0)
    due(org, "四阶段", 4, 1)
    due(org, "三阶段", 3, 2)
    due(org, "一阶段", 1, 3)
    set_state(org.customer(org.rep, name="明天"), next_due_on=timezone.localdate() + dt.timedelta(days=1))
    due(org, "别人的", 3, 5, owner=org.teammate)
    items = selectors.agenda_items(user=org.rep, day=timezone.localdate())
    assert [i.customer_name for i in items] == ["三阶段", "四阶段", "一阶段", "二阶段", "零阶段", "E类"]
    by_name = {i.customer_name: i for i in items}
    assert by_name["三阶段"].overdue_days == 2 and by_name["二阶段"].overdue_days == 0
    assert by_name["E类"].suggest_after == "16:00" and by_name["三阶段"].suggest_after is None
    assert "试探成交" in by_name["三阶段"].purpose
    assert by_name["一阶段"].last_contact_at is not None
    assert by_name["三阶段"].followup_url == f"/customers/{by_name['三阶段'].customer_id}/follow-up/"


def test_a_future_date_shows_what_will_be_due_then(org):
    c = set_state(org.customer(org.rep), next_due_on=timezone.localdate() + dt.timedelta(days=3))
    day = timezone.localdate() + dt.timedelta(days=3)
    assert [i.customer_id for i in selectors.agenda_items(user=org.rep, day=day)] == [c.pk]


def test_a_follow_up_takes_the_customer_off_todays_list(org):
    c = due(org, "今天要打", 1, 0)
    assert [i.customer_id for i in selectors.agenda_items(user=org.rep, day=timezone.localdate())] == [c.pk]
    services.followup_log(actor=org.rep, customer=c, stage=2, summary="问了效果")
    assert selectors.agenda_items(user=org.rep, day=timezone.localdate()) == []


def test_visit_plans_are_on_the_agenda(org):
    c = org.customer(org.rep)
    at = timezone.localtime().replace(hour=23, minute=0)
    services.visit_plan_create(actor=org.rep, customer=c, at=at, place="客户公司", purpose="签合同")
    visits = selectors.visits_for_day(user=org.rep, day=timezone.localdate())
    assert [(v.customer_id, v.purpose) for v in visits] == [(c.pk, "签合同")]
    assert selectors.visits_for_day(user=org.teammate, day=timezone.localdate()) == []


def test_care_items_from_after_sales_are_merged_when_available(org, monkeypatch):
    import yixiang.aftercare.selectors as aftercare_selectors

    item = {
        "kind": "birthday",
        "customer_id": 1,
        "customer_name": "老客户",
        "title": "生日",
        "due_on": timezone.localdate(),
        "overdue_days": 0,
        "suggestion": "打电话祝福",
        "url": "/customers/1/",
    }
    monkeypatch.setattr(aftercare_selectors, "agenda_care_items", lambda *, user, day: [item])
    assert selectors.agenda(user=org.rep, day=timezone.localdate()).care == [item]


def test_tracked_list_balance_warns_when_out_of_balance(org):
    for i in range(3):
        due(org, f"热{i}", 3, 0)
    balance = {b.band: b for b in selectors.tracked_balance(user=org.rep)}
    assert (balance["3-4"].count, balance["3-4"].target, balance["3-4"].status) == (3, 10, "low")
    assert balance["0"].status == "low"


def test_the_agenda_costs_the_same_queries_for_3_or_30_customers(org, django_assert_num_queries):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            a = selectors.agenda(user=org.rep, day=timezone.localdate())
        return len(ctx.captured_queries), len(a.items)

    for i in range(3):
        due(org, f"少{i}", i % 5, i)
        services.visit_plan_create(
            actor=org.rep, customer=org.customer(org.rep, name=f"访{i}"), at=timezone.now() + dt.timedelta(minutes=5),
            place="某地", purpose="拜访",
        )  # fmt: skip
    small = count()
    for i in range(27):
        due(org, f"多{i}", i % 6, i)
    large = count()
    assert large[1] > small[1]
    assert large[0] == small[0]
    with django_assert_num_queries(1):
        selectors.agenda_items(user=org.rep, day=timezone.localdate())


def test_a_customer_past_its_recycling_day_is_shown_as_recycled_tonight_not_on_a_past_date(org):
    today = timezone.localdate()
    due(org, "久未联系", 1, 45)  # 45 days overdue: past the 30-day limit, the nightly run has not come yet
    item = next(i for i in selectors.agenda_items(user=org.rep, day=today) if i.customer_name == "久未联系")
    assert item.recycle_on == today
