"""The care calendar: lunar and solar birthdays, festivals, special days, life events, regional
events, gifts, and the agenda items the pipeline shows."""

import datetime as dt

import pytest

from yixiang.aftercare import selectors, services
from yixiang.aftercare.models import CareTask, Gift, LifeEvent, RegionalEvent
from yixiang.customers.models import Customer
from yixiang.errors import DomainError, ValidationFailed

from .factories import sign

D = dt.date


def test_lunar_birthday_task_on_the_converted_date_each_year(org):
    c = org.customer(org.rep, "中秋生", birth_date=D(1990, 10, 3), birthday_calendar="lunar")
    # 2025: lunar 八月十五 = 2025-10-06; look-ahead 7 days.
    assert services.care_calendar_generate(today=D(2025, 9, 28)) == 0
    assert services.care_calendar_generate(today=D(2025, 9, 29)) == 1
    task = CareTask.objects.get(customer=c, kind=CareTask.Kind.BIRTHDAY)
    assert task.occasion_on == D(2025, 10, 6) and task.due_on == D(2025, 10, 6) and task.rep == org.rep
    assert "中秋生" in task.suggestion
    # 2026: a different solar date (2026-09-25), a new task.
    services.care_calendar_generate(today=D(2026, 9, 20))
    assert CareTask.objects.get(customer=c, occasion_on__year=2026).occasion_on == D(2026, 9, 25)
    # Again on the same day: nothing new.
    assert services.care_calendar_generate(today=D(2026, 9, 20)) == 0


def test_solar_birthday_and_pool_customers_are_left_out(org):
    org.customer(org.rep, "阳历生", birth_date=D(1985, 3, 8))
    org.customer(None, "公海客户", birth_date=D(1985, 3, 8))
    assert services.care_calendar_generate(today=D(2025, 3, 5)) == 1
    assert CareTask.objects.get().occasion_on == D(2025, 3, 8)


def test_festivals_for_signed_customers_including_tier_d(org):
    signed = sign(org.customer(org.rep, "签约D类"))
    Customer.objects.filter(pk=signed.pk).update(value_tier="D")
    org.customer(org.rep, "未签约")
    services.care_calendar_generate(today=D(2025, 1, 25))  # window to 2025-02-01
    fest = CareTask.objects.filter(kind=CareTask.Kind.FESTIVAL)
    # Spring Festival only (its eve is not in the default list); the unsigned customer gets none.
    assert {(t.customer.name, t.occasion_on) for t in fest} == {("签约D类", D(2025, 1, 29))}


def test_festival_scope_setting_includes_every_owned_customer(org, settings):
    settings.YIXIANG = {**settings.YIXIANG, "FESTIVAL_SCOPE": "owned", "FESTIVALS": ["mid_autumn"]}
    org.customer(org.rep, "甲")
    org.customer(org.teammate, "乙")
    services.care_calendar_generate(today=D(2025, 10, 1))
    tasks = CareTask.objects.filter(kind=CareTask.Kind.FESTIVAL)
    assert {(t.rep.username, t.occasion_on) for t in tasks} == {("rep", D(2025, 10, 6)), ("teammate", D(2025, 10, 6))}


def test_special_days_and_life_events(org):
    c = org.customer(org.rep, "有纪念日", special_days="结婚纪念日 2010-05-20\n农历 八 没日期")
    services.life_event_add(actor=org.rep, customer=c, kind=LifeEvent.Kind.PROMOTION, on=D(2025, 5, 22), note="升总监")
    services.life_event_add(
        actor=org.rep, customer=c, kind=LifeEvent.Kind.YEAR_END_BONUS, on=D(2024, 5, 21), recurring=True
    )
    with pytest.raises(ValidationFailed):
        services.life_event_add(actor=org.rep, customer=c, kind="lottery", on=D(2025, 5, 22))
    services.care_calendar_generate(today=D(2025, 5, 18))
    got = {(t.kind, t.occasion_on, t.due_on) for t in CareTask.objects.all()}
    assert got == {
        ("special_day", D(2025, 5, 20), D(2025, 5, 20)),
        ("life_event", D(2025, 5, 22), D(2025, 5, 21)),  # life events: a day ahead, to plan a visit
        ("life_event", D(2025, 5, 21), D(2025, 5, 20)),
    }


def test_regional_event_creates_tasks_for_every_customer_there_in_scope(org):
    in_city = org.customer(org.rep, "郑州客户", province="河南", city="郑州")
    team_city = org.customer(org.teammate, "郑州客户二", province="河南", city="郑州")
    other_team = org.customer(org.other_team_rep, "郑州客户三", province="河南", city="郑州")
    org.customer(org.rep, "洛阳客户", province="河南", city="洛阳")
    org.customer(org.outsider, "南方郑州", province="河南", city="郑州")
    with pytest.raises(DomainError):
        services.regional_event_record(actor=org.rep, kind="flood", title="暴雨", on=D(2025, 7, 20), province="河南")
    event = services.regional_event_record(
        actor=org.lead1, kind="flood", title="郑州暴雨", on=D(2025, 7, 20), province="河南", city="郑州"
    )
    assert event.tasks_created == 2
    assert {(t.customer_id, t.rep_id) for t in CareTask.objects.filter(kind="regional")} == {
        (in_city.pk, org.rep.pk),
        (team_city.pk, org.teammate.pk),
    }
    # The director reaches the whole region (both teams) for the same place.
    services.regional_event_record(actor=org.director, kind="fire", title="火灾", on=D(2025, 7, 21), region=None,
                                   province="河南", city="郑州")  # fmt: skip
    assert CareTask.objects.filter(kind="regional", customer=other_team).count() == 1
    # A region outside the actor's scope is refused, and nothing is written.
    n = RegionalEvent.objects.count()
    with pytest.raises(ValidationFailed):
        services.regional_event_record(actor=org.lead1, kind="storm", title="台风", on=D(2025, 7, 22), region=org.south)
    assert RegionalEvent.objects.count() == n


def test_regional_event_by_account_region(org):
    c = org.customer(org.rep, "华北客户", region=org.north)
    org.customer(org.rep, "无区域客户")
    event = services.regional_event_record(
        actor=org.director, kind="snow", title="寒潮", on=D(2025, 1, 10), region=org.north
    )
    assert event.tasks_created == 1 and CareTask.objects.get().customer == c


def test_agenda_items_for_the_pipeline(org):
    c = org.customer(org.rep, "议程客户")
    other = org.customer(org.teammate, "同事客户")
    services.tasks_create(
        [
            CareTask(kind="birthday", customer=c, rep=org.rep, due_on=D(2025, 3, 1), title="生日", suggestion="生日快乐",
                     source_key="t1"),
            CareTask(kind="renewal", customer=c, rep=org.rep, due_on=D(2025, 3, 5), title="续约", source_key="t2"),
            CareTask(kind="birthday", customer=other, rep=org.teammate, due_on=D(2025, 3, 1), title="别人的",
                     source_key="t3"),
        ]
    )  # fmt: skip
    items = selectors.agenda_care_items(user=org.rep, day=D(2025, 3, 3))
    assert [i["title"] for i in items] == ["生日"]
    item = items[0]
    assert {"kind", "customer_id", "customer_name", "title", "due_on", "overdue_days", "suggestion", "url"} <= set(item)
    assert item["overdue_days"] == 2 and item["customer_name"] == "议程客户" and item["suggestion"] == "生日快乐"
    assert item["url"]
    assert len(selectors.agenda_care_items(user=org.rep, day=D(2025, 3, 5))) == 2
    services.care_task_done(actor=org.rep, task=CareTask.objects.get(source_key="t1"))
    assert [i["title"] for i in selectors.agenda_care_items(user=org.rep, day=D(2025, 3, 5))] == ["续约"]
    # Nobody else's agenda shows the rep's tasks, not even the lead's own agenda.
    assert selectors.agenda_care_items(user=org.lead1, day=D(2025, 3, 5)) == []
    assert selectors.agenda_care_items(user=org.outsider, day=D(2025, 3, 5)) == []


def test_open_tasks_follow_the_customer_to_a_new_owner(org):
    c = org.customer(org.rep, "交接客户")
    services.tasks_create(
        [CareTask(kind="birthday", customer=c, rep=org.rep, due_on=D(2025, 3, 1), title="x", source_key="k")]
    )
    c.owner = org.teammate
    c.save(update_fields=["owner"])
    assert services.care_tasks_follow_owner() == 1
    assert CareTask.objects.get().rep == org.teammate


def test_gift_logged_with_cost(org):
    c = org.customer(org.rep, "送礼客户")
    g = services.gift_log(actor=org.rep, customer=c, item="月饼礼盒", cost="88.50", occasion="中秋")
    assert Gift.objects.get(pk=g.pk).cost == 88.5
    with pytest.raises(ValidationFailed):
        services.gift_log(actor=org.rep, customer=c, item="", cost=10)
    with pytest.raises(ValidationFailed):
        services.gift_log(actor=org.rep, customer=c, item="花", cost="abc")


def test_calendar_view_lists_occasions_in_scope_only(org):
    org.customer(org.rep, "我的客户", birth_date=D(1990, 10, 3), birthday_calendar="lunar")
    org.customer(org.outsider, "别人的客户", birth_date=D(1990, 10, 3), birthday_calendar="lunar")
    occ = selectors.care_calendar(org.rep, D(2025, 10, 1), D(2025, 10, 10))
    names = [(o.on, o.customer_name, o.kind) for o in occ if o.customer_id]
    assert names == [(D(2025, 10, 6), "我的客户", "birthday")]
    assert (D(2025, 10, 1), "festival") in {(o.on, o.kind) for o in occ}
