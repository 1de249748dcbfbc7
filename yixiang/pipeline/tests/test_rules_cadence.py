"""Cadence (DOMAIN.md §1): 0 every 15 days, 1–2 every 7, 3–4 every 3, E twice a month. A due date
on a statutory day off moves earlier at stages 3–4 ("3天以内", never later) and to the next
working day at slower cadences (a setting); make-up Saturdays and Sundays are working days.

The calendar is passed in (rules stay pure); here it is the chinesecalendar package's, which is
also what the database is seeded with."""

import datetime as dt

from yixiang.pipeline import holidays, rules
from yixiang.pipeline.conf import DEFAULTS

CADENCE = DEFAULTS["CADENCE_DAYS"]
D = dt.date.fromisoformat
_ROWS = holidays.package_days()
CN = rules.WorkCalendar(
    days_off=frozenset(d for d, kind, _ in _ROWS if kind == holidays.OFF),
    workdays=frozenset(d for d, kind, _ in _ROWS if kind == holidays.WORKDAY),
    known_years=frozenset(d.year for d, _, _ in _ROWS),
)


def due(stage, last, planned=None, today=dt.date(2025, 3, 3), shift=True, calendar=CN, slower="next"):
    return rules.next_due_on(
        stage=stage,
        last_effective_contact=D(last) if last else None,
        planned_next=D(planned) if planned else None,
        today=today,
        cadence=CADENCE,
        calendar=calendar,
        shift_holidays=shift,
        slower_shift=slower,
    )


def test_each_stage_has_its_interval():
    assert [rules.interval_days(s, CADENCE) for s in (0, 1, 2, 3, 4, 5)] == [15, 7, 7, 3, 3, 15]


def test_stage_3_is_due_three_days_after_the_last_effective_contact():
    assert due(3, "2025-03-03") == D("2025-03-06")  # Monday → Thursday


def test_stage_0_is_due_fifteen_days_later_and_1_2_seven():
    assert due(0, "2025-03-03") == D("2025-03-18")
    assert due(1, "2025-03-03") == D("2025-03-10")
    assert due(2, "2025-03-03") == D("2025-03-10")


def test_a_planned_next_contact_wins_when_sooner():
    assert due(0, "2025-03-03", planned="2025-03-05") == D("2025-03-05")


def test_a_planned_next_contact_later_than_the_cadence_does_not_delay_it():
    assert due(3, "2025-03-03", planned="2025-03-20") == D("2025-03-06")


def test_a_customer_never_reached_is_due_today():
    assert due(0, None, today=D("2025-03-04")) == D("2025-03-04")


def test_at_stages_3_4_a_weekend_due_date_moves_back_to_friday():
    # Wednesday + 3 = Saturday 2025-03-08 → Friday 2025-03-07, still "within 3 days".
    assert due(3, "2025-03-05") == D("2025-03-07")
    assert due(4, "2025-03-05") == D("2025-03-07")


def test_at_slower_cadences_a_weekend_due_date_moves_to_monday():
    # Saturday 2025-03-08 is 7 days after Saturday 1 March → Monday 10 March.
    assert due(1, "2025-03-01") == D("2025-03-10")
    assert due(0, "2025-02-21") == D("2025-03-10")  # +15 = Saturday 8 March
    assert due(5, "2025-02-21") == D("2025-03-10")


def test_national_day_2025_moves_a_hot_customer_earlier_never_later():
    # 29 Sep + 3 = 2 Oct, inside the 1–8 Oct days off → Tuesday 30 Sep, not Thursday 9 Oct.
    assert due(3, "2025-09-29") == D("2025-09-30")


def test_national_day_2025_moves_a_slower_cadence_after_the_holiday():
    # 24 Sep + 7 = 1 Oct → Thursday 9 Oct, the first working day after the week off.
    assert due(1, "2025-09-24") == D("2025-10-09")


def test_the_slower_direction_is_a_setting():
    assert due(1, "2025-09-24", slower="previous") == D("2025-09-30")
    assert due(1, "2025-09-24", slower="none") == D("2025-10-01")
    # The hot stages move earlier whatever the setting.
    assert due(3, "2025-09-29", slower="none") == D("2025-09-30")


def test_a_hot_due_date_never_moves_onto_or_before_the_contact_it_follows():
    # Contacted on 2 Oct, a day off: +3 = 5 Oct. The working days before it (30 Sep) are not
    # after the contact, so the date stays on 5 Oct — never later, and not already overdue.
    assert due(3, "2025-10-02") == D("2025-10-05")
    # Contacted on 30 Sep (a working day): +3 = 3 Oct → 30 Sep is the contact day itself, so the
    # due date stays on 3 Oct rather than being due the day it was contacted.
    assert due(3, "2025-09-30") == D("2025-10-03")


def test_a_make_up_workday_is_a_working_day():
    # 2025-10-11 is a Saturday worked in lieu of the holiday: the due date stays.
    assert due(3, "2025-10-08") == D("2025-10-11")
    # 2025-09-28 is a Sunday worked in lieu.
    assert due(1, "2025-09-21") == D("2025-09-28")


def test_spring_festival_2026():
    # 14 Feb 2026 (Saturday) is a make-up workday; 15–23 Feb are days off.
    assert due(3, "2026-02-11") == D("2026-02-14")
    # 13 Feb + 3 = 16 Feb, a day off → back to Saturday 14 Feb, the make-up workday.
    assert due(3, "2026-02-13") == D("2026-02-14")
    # A slower cadence waits for the first working day after: Tuesday 24 Feb.
    assert due(1, "2026-02-13") == D("2026-02-24")


def test_without_the_shift_the_raw_date_stays():
    assert due(3, "2025-09-29", shift=False) == D("2025-10-02")
    assert due(1, "2025-09-24", shift=False) == D("2025-10-01")


def test_a_planned_contact_on_a_day_off_is_the_reps_choice_and_is_kept():
    assert due(0, "2025-09-29", planned="2025-10-03") == D("2025-10-03")


def test_a_year_the_calendar_does_not_know_uses_saturday_and_sunday():
    assert not CN.knows(D("2031-01-04"))
    assert rules.is_working_day(D("2031-01-04"), CN) is False  # Saturday
    assert rules.next_working_day(D("2031-01-04"), CN) == D("2031-01-06")
    assert rules.is_working_day(D("2031-10-01"), CN) is True  # a Wednesday: no holiday data yet
    assert due(1, "2030-12-28") == D("2031-01-06")  # +7 = Saturday 4 Jan 2031 → Monday


def test_an_administrators_entries_are_what_the_rule_reads():
    # An entered 2031 National Day (1–7 Oct off, Saturday 11 Oct worked) moves dates like a known year.
    entered = rules.WorkCalendar(
        days_off=frozenset(D("2031-10-01") + dt.timedelta(days=i) for i in range(7)),
        workdays=frozenset({D("2031-10-11")}),
        known_years=frozenset({2031}),
    )
    assert due(3, "2031-09-29", calendar=entered) == D("2031-09-30")
    assert due(1, "2031-09-26", calendar=entered) == D("2031-10-08")
    assert due(3, "2031-10-08", calendar=entered) == D("2031-10-11")  # the make-up Saturday
    assert due(3, "2031-09-29", calendar=rules.WEEKENDS_ONLY) == D("2031-10-02")


def test_an_administrator_is_asked_for_next_years_calendar_from_december():
    known = {2025, 2026}
    assert rules.calendar_missing_year(D("2026-11-30"), known) is None
    assert rules.calendar_missing_year(D("2026-12-01"), known) == 2027
    assert rules.calendar_missing_year(D("2026-12-01"), known | {2027}) is None
    # Into the new year with no calendar entered yet: still asked, for the current year.
    assert rules.calendar_missing_year(D("2027-01-05"), known) == 2027


def test_overdue_days_count_past_the_due_date():
    assert rules.overdue_days(D("2025-03-01"), D("2025-03-04")) == 3
    assert rules.overdue_days(D("2025-03-05"), D("2025-03-04")) == 0
    assert rules.overdue_days(None, D("2025-03-04")) == 0
