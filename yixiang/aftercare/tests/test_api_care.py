"""Care through the API: the calendar over a long range, ticking tasks off, scoped."""

import datetime as dt

from yixiang.aftercare.models import CareTask


def _task(org, customer, due, **kw):
    return CareTask.objects.create(
        customer=customer,
        rep=customer.owner,
        kind=CareTask.Kind.BIRTHDAY,
        due_on=due,
        title="生日",
        source_key=f"test:{customer.pk}:{due}",
        **kw,
    )


def test_calendar_covers_a_year_in_windows(org, api_as):
    customer = org.customer(org.rep, "生日客户", birth_date=dt.date(1980, 11, 20))
    api = api_as(org.rep)
    r = api.get("/api/v1/care/calendar", **{"from": "2026-01-01", "to": "2026-12-31", "festivals": "false"})
    assert r.status_code == 200, r.content
    birthdays = [o for o in r.json() if o["kind"] == "birthday"]
    # Far beyond the page's 62-day window: the whole year is read.
    assert [o["on"] for o in birthdays] == ["2026-11-20"] and birthdays[0]["customer_id"] == customer.pk
    with_festivals = api.get("/api/v1/care/calendar", **{"from": "2026-01-01", "to": "2026-12-31"}).json()
    days = [o["on"] for o in with_festivals]
    assert days == sorted(days) and len(set(days)) > 10 and "2026-10-01" in days
    assert (
        api_as(org.outsider)
        .get("/api/v1/care/calendar", **{"from": "2026-01-01", "to": "2026-12-31", "festivals": "false"})
        .json()
        == []
    )


def test_calendar_range_is_bounded(org, api_as):
    api = api_as(org.rep)
    assert api.get("/api/v1/care/calendar", **{"from": "2026-01-01", "to": "2027-01-03"}).status_code == 400
    assert api.get("/api/v1/care/calendar", **{"from": "2026-02-01", "to": "2026-01-01"}).status_code == 400


def test_task_list_for_a_range_and_done_and_reopen(org, api_as):
    customer = org.customer(org.rep, "任务客户")
    early = _task(org, customer, dt.date(2026, 2, 1))
    _task(org, customer, dt.date(2026, 9, 1))
    api = api_as(org.rep)
    listed = api.get("/api/v1/care", **{"from": "2026-01-01", "to": "2026-12-31"}).json()
    assert [t["due_on"] for t in listed] == ["2026-02-01", "2026-09-01"]
    r = api.post(f"/api/v1/care/{early.pk}/done", {"outcome": "打过电话"})
    assert r.status_code == 200 and r.json()["done_at"]
    early.refresh_from_db()
    assert early.done_by == org.rep and early.outcome == "打过电话"
    assert len(api.get("/api/v1/care", **{"from": "2026-01-01", "to": "2026-12-31"}).json()) == 1
    r = api.post(f"/api/v1/care/{early.pk}/reopen")
    assert r.status_code == 200 and r.json()["done_at"] is None


def test_tasks_outside_scope_are_404(org, api_as):
    task = _task(org, org.customer(org.rep, "任务客户"), dt.date(2026, 2, 1))
    for user in (org.teammate, org.outsider, org.lead2):
        assert api_as(user).post(f"/api/v1/care/{task.pk}/done", {}).status_code == 404
        assert api_as(user).post(f"/api/v1/care/{task.pk}/reopen").status_code == 404
    task.refresh_from_db()
    assert task.done_at is None
    assert api_as(org.lead1).post(f"/api/v1/care/{task.pk}/done", {}).status_code == 200
