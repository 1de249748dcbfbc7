"""Cadence (DOMAIN.md §1): 0 every 15 days, 1–2 every 7, 3–4 every 3, E twice a month; due dates
on statutory days off move to the next working day (make-up Saturdays are working days)."""

import datetime as dt

from yixiang.pipeline import rules
from yixiang.pipeline.conf import DEFAULTS

CADENCE = DEFAULTS["CADENCE_DAYS"]
D = dt.date.fromisoformat


def due(stage, last, planned=None, today=dt.date(2025, 3, 3), shift=True):
    return rules.next_due_on(
        stage=stage,
        last_effective_contact=D(last) if last else None,
        planned_next=D(planned) if planned else None,
        today=today,
        cadence=CADENCE,
        shift_holidays=shift,
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


def test_a_weekend_due_date_moves_to_monday():
    # Wednesday + 3 = Saturday 2025-03-08 → Monday 2025-03-10
    assert due(3, "2025-03-05") == D("2025-03-10")


def test_national_day_2025_moves_the_due_date_after_the_holiday():
    # 29 Sep + 3 = 2 Oct, inside the 1–8 Oct days off → Thursday 9 Oct.
    assert due(3, "2025-09-29") == D("2025-10-09")


def test_a_make_up_workday_is_a_working_day():
    # 2025-10-11 is a Saturday worked in lieu of the holiday: the due date stays.
    assert due(3, "2025-10-08") == D("2025-10-11")
    # 2025-09-28 is a Sunday worked in lieu.
    assert due(1, "2025-09-21") == D("2025-09-28")


def test_spring_festival_2026():
    # 14 Feb 2026 (Saturday) is a make-up workday; 15–23 Feb are days off.
    assert due(3, "2026-02-11") == D("2026-02-14")
    assert due(3, "2026-02-13") == D("2026-02-24")


def test_without_the_shift_the_raw_date_stays():
    assert due(3, "2025-09-29", shift=False) == D("2025-10-02")


def test_a_planned_contact_on_a_day_off_is_the_reps_choice_and_is_kept():
    assert due(0, "2025-09-29", planned="2025-10-03") == D("2025-10-03")


def test_a_year_the_calendar_does_not_know_uses_saturday_and_sunday():
    assert rules.is_working_day(D("2031-01-04")) is False  # Saturday
    assert rules.next_working_day(D("2031-01-04")) == D("2031-01-06")
    assert rules.is_working_day(D("2031-10-01")) is True  # a Wednesday: no holiday data yet


def test_overdue_days_count_past_the_due_date():
    assert rules.overdue_days(D("2025-03-01"), D("2025-03-04")) == 3
    assert rules.overdue_days(D("2025-03-05"), D("2025-03-04")) == 0
    assert rules.overdue_days(None, D("2025-03-04")) == 0
