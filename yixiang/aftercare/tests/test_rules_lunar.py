"""Lunar birthdays and festivals against dates everyone in China knows."""

import datetime as dt

import pytest

from yixiang.aftercare import rules
from yixiang.pipeline import holidays

D = dt.date

# 春节 (正月初一) and 中秋 (八月十五), from the published calendars.
SPRING_FESTIVAL = {
    2020: D(2020, 1, 25),
    2023: D(2023, 1, 22),
    2024: D(2024, 2, 10),
    2025: D(2025, 1, 29),
    2026: D(2026, 2, 17),
}
MID_AUTUMN = {2023: D(2023, 9, 29), 2024: D(2024, 9, 17), 2025: D(2025, 10, 6), 2026: D(2026, 9, 25)}
DRAGON_BOAT = {2024: D(2024, 6, 10), 2025: D(2025, 5, 31)}
LANTERN = {2025: D(2025, 2, 12)}


@pytest.mark.parametrize(("year", "expected"), sorted(SPRING_FESTIVAL.items()))
def test_spring_festival(year, expected):
    assert rules.festival_date(rules.FESTIVALS["spring_festival"], year) == expected
    assert rules.lunar_to_solar(year, 1, 1) == expected


@pytest.mark.parametrize(("year", "expected"), sorted(MID_AUTUMN.items()))
def test_mid_autumn(year, expected):
    assert rules.festival_date(rules.FESTIVALS["mid_autumn"], year) == expected


def test_other_festivals():
    assert rules.festival_date(rules.FESTIVALS["dragon_boat"], 2025) == DRAGON_BOAT[2025]
    assert rules.festival_date(rules.FESTIVALS["dragon_boat"], 2024) == DRAGON_BOAT[2024]
    assert rules.festival_date(rules.FESTIVALS["lantern"], 2025) == LANTERN[2025]
    assert rules.festival_date(rules.FESTIVALS["mothers_day"], 2025) == D(2025, 5, 11)  # 2nd Sunday of May
    assert rules.festival_date(rules.FESTIVALS["mothers_day"], 2026) == D(2026, 5, 10)
    assert rules.festival_date(rules.FESTIVALS["fathers_day"], 2025) == D(2025, 6, 15)
    assert rules.festival_date(rules.FESTIVALS["national_day"], 2025) == D(2025, 10, 1)
    assert rules.festival_date(rules.FESTIVALS["teachers_day"], 2025) == D(2025, 9, 10)
    # 除夕: the 12th month of lunar 2024 has 29 days, so the eve is 腊月廿九.
    assert rules.festival_date(rules.FESTIVALS["spring_eve"], 2024) == D(2025, 1, 28)


def test_festival_occurrences_in_a_window_across_new_year():
    found = rules.festival_occurrences(["spring_festival", "new_year", "lantern"], D(2024, 12, 25), D(2025, 2, 15))
    assert [(d, f.code) for d, f in found] == [
        (D(2025, 1, 1), "new_year"),
        (D(2025, 1, 29), "spring_festival"),
        (D(2025, 2, 12), "lantern"),
    ]


def test_lunar_birthday_born_on_mid_autumn_follows_mid_autumn_every_year():
    born = D(1990, 10, 3)  # 1990 中秋
    assert rules.solar_to_lunar(born) == rules.LunarDate(8, 15, False)
    got = rules.birthday_occurrences(born, "lunar", D(2023, 1, 1), D(2026, 12, 31))
    assert got == [MID_AUTUMN[y] for y in (2023, 2024, 2025, 2026)]


def test_lunar_birthday_on_lunar_new_year_lands_in_january_or_february():
    born = D(1990, 1, 27)  # 1990 春节 = 正月初一
    got = rules.birthday_occurrences(born, "lunar", D(2023, 1, 1), D(2026, 12, 31))
    assert got == [SPRING_FESTIVAL[y] for y in (2023, 2024, 2025, 2026)]


def test_lunar_birthday_of_an_ordinary_date():
    born = D(1990, 5, 20)  # 农历四月廿六
    assert rules.solar_to_lunar(born) == rules.LunarDate(4, 26, False)
    got = rules.birthday_occurrences(born, "lunar", D(2024, 1, 1), D(2026, 12, 31))
    assert got == [D(2024, 6, 2), D(2025, 5, 23), D(2026, 6, 11)]


def test_solar_birthday_is_the_same_day_and_feb_29_falls_back_to_feb_28():
    assert rules.birthday_occurrences(D(1985, 3, 8), "solar", D(2025, 1, 1), D(2025, 12, 31)) == [D(2025, 3, 8)]
    leap = D(1996, 2, 29)
    assert rules.birthday_occurrences(leap, "solar", D(2025, 1, 1), D(2025, 12, 31)) == [D(2025, 2, 28)]
    assert rules.birthday_occurrences(leap, "solar", D(2028, 1, 1), D(2028, 12, 31)) == [D(2028, 2, 29)]


def test_day_30_in_a_short_month_becomes_the_month_s_last_day():
    # 腊月三十 1990 (lunar 1989) = 1990-01-26; lunar 2024 has only 腊月廿九 (2025-01-28).
    born = D(1990, 1, 26)
    assert rules.solar_to_lunar(born) == rules.LunarDate(12, 30, False)
    assert rules.lunar_last_day(2024, 12) == 29
    assert rules.birthday_occurrences(born, "lunar", D(2025, 1, 1), D(2025, 2, 28)) == [D(2025, 1, 28)]
    # 正月 of 2025 has 30 days, so 正月三十 exists there.
    assert rules.lunar_to_solar(2025, 1, 30) == D(2025, 2, 27)
    assert rules.lunar_to_solar(2025, 2, 30) == rules.lunar_to_solar(2025, 2, 29) == D(2025, 3, 28)
    assert rules.lunar_to_solar(2025, 3, 1) == D(2025, 3, 29)  # the next day starts 三月


def test_leap_month_birthday_uses_the_leap_month_only_when_the_year_has_it():
    # 2025 has a leap 6th month (闰六月): 2025-07-25 is 闰六月初一.
    born = D(2025, 7, 25)
    assert rules.solar_to_lunar(born) == rules.LunarDate(6, 1, True)
    assert rules.lunar_to_solar(2026, 6, 1, leap=True) == rules.lunar_to_solar(2026, 6, 1)  # no leap 6th month
    assert rules.birthday_occurrences(born, "lunar", D(2026, 1, 1), D(2026, 12, 31)) == [
        rules.lunar_to_solar(2026, 6, 1)
    ]
    # 1987 had a leap 6th month too: there the leap month is used.
    assert rules.lunar_to_solar(1987, 6, 1, leap=True) != rules.lunar_to_solar(1987, 6, 1)


def test_special_days_parsed_from_archive_text():
    parsed = rules.parse_special_days(
        "结婚纪念日 2010-05-20\n农历 8-3 母亲生日\n随便写的一行\n孩子生日：3月5日\n坏日期 2-30"
    )
    assert parsed == [
        rules.SpecialDay("结婚纪念日", 5, 20, False, 2010),
        rules.SpecialDay("母亲生日", 8, 3, True, None),
        rules.SpecialDay("孩子生日", 3, 5, False, None),
    ]
    wedding = parsed[0]
    assert rules.special_day_occurrences(wedding, D(2025, 5, 1), D(2025, 5, 31)) == [D(2025, 5, 20)]
    mother = parsed[1]
    assert rules.special_day_occurrences(mother, D(2025, 1, 1), D(2025, 12, 31)) == [rules.lunar_to_solar(2025, 8, 3)]


def test_cached_month_tables_agree_with_lunar_python_day_by_day():
    """Our per-year month tables (built once from lunar_python) give the same dates as its own
    conversion, both ways, across a century."""
    from lunar_python import Solar

    day = D(1960, 1, 1)
    while day < D(2050, 12, 31):
        lunar = Solar.fromYmd(day.year, day.month, day.day).getLunar()
        expected = rules.LunarDate(abs(lunar.getMonth()), lunar.getDay(), lunar.getMonth() < 0)
        assert rules.solar_to_lunar(day) == expected, day
        assert rules.lunar_to_solar(lunar.getYear(), expected.month, expected.day, expected.leap) == day
        day += dt.timedelta(days=29)


def test_statutory_days_off_and_make_up_working_days():
    # The calendar is passed in (the pipeline's statutory calendar, seeded from chinesecalendar).
    rows = holidays.package_days()
    off = {d for d, kind, _ in rows if kind == holidays.OFF}
    work = {d for d, kind, _ in rows if kind == holidays.WORKDAY}
    days = dict(rules.statutory_days(D(2025, 9, 27), D(2025, 10, 12), days_off=off, workdays=work))
    assert days[D(2025, 10, 1)] == "holiday" and days[D(2025, 10, 8)] == "holiday"
    assert days[D(2025, 9, 28)] == "workday" and days[D(2025, 10, 11)] == "workday"  # Sunday / Saturday worked
    assert D(2025, 10, 9) not in days and D(2025, 9, 27) not in days
    assert min(days) >= D(2025, 9, 27) and max(days) <= D(2025, 10, 12)
    # no data yet: nothing invented
    assert rules.statutory_days(D(2099, 1, 1), D(2099, 1, 3), days_off=off, workdays=work) == []
