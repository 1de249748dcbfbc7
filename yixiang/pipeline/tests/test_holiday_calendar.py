"""The statutory calendar is data (DOMAIN.md §1, issue 15): seeded from the chinesecalendar
package, editable by an administrator per year, read by the due-date rule through one selector;
a year nobody entered is flagged to administrators and its due dates say weekends were assumed."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from yixiang.pipeline import holidays, selectors, services
from yixiang.pipeline.models import HolidayDay, HolidayKind
from yixiang.pipeline.tests.factories import set_state
from yixiang.testing import PASSWORD

D = dt.date.fromisoformat


def _mark(day: dt.date, kind: str) -> None:
    HolidayDay.objects.update_or_create(date=day, defaults={"kind": kind, "name": "测试"})


def test_the_table_is_seeded_from_the_package_for_every_year_it_knows(db):
    assert HolidayDay.objects.get(date=D("2025-10-01")).kind == HolidayKind.DAY_OFF
    assert HolidayDay.objects.get(date=D("2025-10-01")).name == "国庆节"
    assert HolidayDay.objects.get(date=D("2025-10-11")).kind == HolidayKind.WORKDAY  # make-up Saturday
    package_years = {day.year for day, _, _ in holidays.package_days()}
    assert {d.year for d in HolidayDay.objects.dates("date", "year")} == package_years
    assert HolidayDay.objects.count() == len(holidays.package_days())


def test_seeding_again_never_overwrites_a_year_an_administrator_edited(db):
    HolidayDay.objects.filter(date__year=2025).exclude(date=D("2025-10-01")).delete()
    HolidayDay.objects.filter(date=D("2025-10-01")).update(name="改过")
    HolidayDay.objects.filter(date__year=2024).delete()
    added = holidays.seed_from_package(HolidayDay)
    assert added == sum(1 for day, _, _ in holidays.package_days() if day.year == 2024)
    assert list(HolidayDay.objects.filter(date__year=2025).values_list("name", flat=True)) == ["改过"]


def test_a_make_up_working_day_must_fall_on_a_weekend(db):
    with pytest.raises(ValidationError) as err:
        HolidayDay(date=D("2031-10-08"), kind=HolidayKind.WORKDAY).full_clean()  # a Wednesday
    assert "kind" in err.value.message_dict
    HolidayDay(date=D("2031-10-11"), kind=HolidayKind.WORKDAY).full_clean()  # a Saturday: fine


def test_the_selector_loads_the_days_off_and_workdays_of_the_years_asked(db, django_assert_num_queries):
    with django_assert_num_queries(1):
        cal = selectors.work_calendar(D("2025-12-20"), D("2026-01-20"))
    assert cal.known_years == {2025, 2026}
    assert not cal.is_working_day(D("2025-10-01")) and cal.is_working_day(D("2025-10-11"))
    assert not cal.is_working_day(D("2026-02-16"))
    assert not selectors.work_calendar(D("2031-01-01"), D("2031-12-31")).knows(D("2031-06-01"))


def test_a_follow_up_reads_the_calendar_as_the_administrator_left_it(org):
    """Stage 3 is due within 3 days; with the 2nd and 3rd day made days off it is due on the 1st.
    Stage 1 is due in 7 days; with that day off and the 8th a working day it is due on the 8th."""
    today = timezone.localdate()
    day = [today + dt.timedelta(days=n) for n in range(10)]
    _mark(day[1], HolidayKind.WORKDAY)
    _mark(day[2], HolidayKind.DAY_OFF)
    _mark(day[3], HolidayKind.DAY_OFF)
    _mark(day[7], HolidayKind.DAY_OFF)
    _mark(day[8], HolidayKind.WORKDAY)
    hot, warm = org.customer(org.rep, name="热"), org.customer(org.rep, name="温")
    services.followup_log(actor=org.rep, customer=hot, stage=3, summary="问价格")
    services.followup_log(actor=org.rep, customer=warm, stage=1, summary="愿意听")
    hot.refresh_from_db()
    warm.refresh_from_db()
    assert hot.next_due_on == day[1]  # earlier, never later
    assert warm.next_due_on == day[8]  # the next working day

    # The administrator takes the day off back: the next contact follows at once.
    HolidayDay.objects.filter(date=day[3]).delete()
    if day[3].weekday() >= 5:
        _mark(day[3], HolidayKind.WORKDAY)
    services.followup_log(actor=org.rep, customer=hot, stage=3, summary="再问价格")
    hot.refresh_from_db()
    assert hot.next_due_on == day[3]


def test_an_administrator_sees_a_banner_until_the_year_is_entered(org, client):
    this_year = timezone.localdate().year
    HolidayDay.objects.filter(date__year__in=(this_year, this_year + 1)).delete()
    client.login(username=org.admin.username, password=PASSWORD)
    page = client.get("/").content.decode()
    assert 'id="holiday-calendar-banner"' in page
    assert f"{this_year} 年的法定节假日安排尚未录入" in page  # zh-hans first
    client.login(username=org.rep.username, password=PASSWORD)
    assert 'id="holiday-calendar-banner"' not in client.get("/agenda/").content.decode()

    _mark(dt.date(this_year, 1, 1), HolidayKind.DAY_OFF)
    _mark(dt.date(this_year + 1, 1, 1), HolidayKind.DAY_OFF)
    client.login(username=org.admin.username, password=PASSWORD)
    assert 'id="holiday-calendar-banner"' not in client.get("/").content.decode()


def test_the_banner_comes_on_the_first_of_december_for_next_year(db):
    HolidayDay.objects.filter(date__year=2027).delete()
    assert selectors.calendar_missing_year(D("2026-11-30")) is None
    assert selectors.calendar_missing_year(D("2026-12-01")) == 2027
    _mark(D("2027-01-01"), HolidayKind.DAY_OFF)
    assert selectors.calendar_missing_year(D("2026-12-01")) is None


def test_a_due_date_in_an_unknown_year_says_weekends_were_assumed(org, client):
    c = set_state(org.customer(org.rep), stage=1, next_due_on=D("2031-03-03"))
    client.login(username=org.rep.username, password=PASSWORD)
    panel = client.get(f"/customers/{c.pk}/pipeline/panel/").content.decode()
    assert "weekends-assumed" in panel and "按周末推算" in panel
    set_state(c, next_due_on=D("2025-03-03"))
    assert "weekends-assumed" not in client.get(f"/customers/{c.pk}/pipeline/panel/").content.decode()


def test_the_admin_lists_and_edits_the_calendar(org, client):
    client.login(username=org.admin.username, password=PASSWORD)
    r = client.get("/admin/pipeline/holidayday/?date__year=2025")
    assert r.status_code == 200 and "2025" in r.content.decode()
    r = client.post(
        "/admin/pipeline/holidayday/add/", {"date": "2031-10-01", "kind": HolidayKind.DAY_OFF, "name": "国庆节"}
    )
    assert r.status_code == 302 and HolidayDay.objects.filter(date=D("2031-10-01")).exists()


def test_the_care_calendar_shows_the_same_statutory_days_as_the_due_dates_read(org):
    from yixiang.aftercare.selectors import care_calendar

    def statutory(start, end):
        return {(o.on, o.kind) for o in care_calendar(org.rep, start, end) if o.kind in ("holiday", "workday")}

    assert (D("2025-10-01"), "holiday") in statutory(D("2025-09-27"), D("2025-10-12"))
    assert (D("2025-10-11"), "workday") in statutory(D("2025-09-27"), D("2025-10-12"))
    # An administrator enters 2031's National Day: the care calendar shows it too.
    assert statutory(D("2031-09-28"), D("2031-10-12")) == set()
    _mark(D("2031-10-01"), HolidayKind.DAY_OFF)
    _mark(D("2031-10-11"), HolidayKind.WORKDAY)
    assert statutory(D("2031-09-28"), D("2031-10-12")) == {(D("2031-10-01"), "holiday"), (D("2031-10-11"), "workday")}


def test_an_administrator_enters_and_removes_days_on_the_calendar_page(org, client):
    client.login(username=org.rep.username, password=PASSWORD)
    assert client.get("/holidays/?year=2031").status_code == 404
    r = client.post("/holidays/", {"action": "save", "date": "2031-10-01", "kind": "off", "name": "国庆节"})
    assert r.status_code == 404 and not HolidayDay.objects.filter(date=D("2031-10-01")).exists()

    client.login(username=org.admin.username, password=PASSWORD)
    r = client.post("/holidays/", {"action": "save", "date": "2031-10-01", "kind": "off", "name": "国庆节"})
    assert r.status_code == 302 and r["Location"].endswith("year=2031")
    assert HolidayDay.objects.get(date=D("2031-10-01")).name == "国庆节"
    assert "2031-10-01" in client.get("/holidays/?year=2031").content.decode()

    # A make-up working day on a Wednesday is refused in Chinese, and nothing is stored.
    r = client.post("/holidays/", {"action": "save", "date": "2031-10-08", "kind": "workday", "name": ""})
    assert r.status_code == 200 and "调休上班日只能是周六或周日" in r.content.decode()
    assert not HolidayDay.objects.filter(date=D("2031-10-08")).exists()

    r = client.post("/holidays/", {"action": "remove", "year": "2031", "date": "2031-10-01"})
    assert r.status_code == 302 and not HolidayDay.objects.filter(date=D("2031-10-01")).exists()


@pytest.mark.django_db(transaction=True)
def test_a_flushed_database_is_seeded_again():
    # Transactional tests and `manage.py flush` empty every table, then send post_migrate.
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)
    assert HolidayDay.objects.filter(date=D("2025-10-01"), kind=HolidayKind.DAY_OFF).exists()
