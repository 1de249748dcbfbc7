"""One relative-time style and one money style per language; ISO dates in both (issue 14)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from yixiang.formatting import format_yuan, relative_time

NOW = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("delta", "zh", "en"),
    [
        (dt.timedelta(seconds=8), "刚刚", "just now"),
        (dt.timedelta(minutes=5, seconds=30), "5 分钟前", "5 minutes ago"),
        (dt.timedelta(hours=2, minutes=59), "2 小时前", "2 hours ago"),
        (dt.timedelta(days=4, hours=21), "4 天前", "4 days ago"),
        (dt.timedelta(days=11), "11 天前", "11 days ago"),
        (dt.timedelta(days=1), "1 天前", "1 day ago"),
        (-dt.timedelta(days=3, hours=1), "3 天后", "in 3 days"),
    ],
)
def test_relative_time_uses_one_unit_in_one_style(delta, zh, en):
    with translation.override("zh-hans"):
        assert relative_time(NOW - delta, NOW) == zh
    with translation.override("en"):
        assert relative_time(NOW - delta, NOW) == en


def test_old_times_and_plain_dates():
    with translation.override("zh-hans"):
        assert relative_time(NOW - dt.timedelta(days=90), NOW) == "2026-09-03"
        assert relative_time(dt.date(2026, 11, 29), NOW) == "3 天前"
        assert relative_time(None, NOW) == ""


@pytest.mark.parametrize(
    ("amount", "zh", "en"),
    [
        (Decimal("7950.00"), "7,950 元", "7,950 yuan"),
        (Decimal("50000.5"), "50,000.50 元", "50,000.50 yuan"),
        (300, "300 元", "300 yuan"),
        (Decimal("-1234567"), "-1,234,567 元", "-1,234,567 yuan"),
    ],
)
def test_amounts_have_separators_and_the_unit(amount, zh, en):
    with translation.override("zh-hans"):
        assert format_yuan(amount) == zh
    with translation.override("en"):
        assert format_yuan(amount) == en
    assert format_yuan(None) == ""


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_dates_are_iso_in_every_named_format(language):
    moment = dt.datetime(2026, 11, 27, 6, 5, tzinfo=dt.UTC)  # 14:05 in Shanghai
    tpl = Template(
        '{% load yx %}{{ d|date:"DATE_FORMAT" }}|{{ d|date:"SHORT_DATE_FORMAT" }}|{{ d|date:"SHORT_DATETIME_FORMAT" }}'
        "|{{ d|date }}|{{ m|yuan }}"
    )
    with translation.override(language):
        out = tpl.render(Context({"d": moment, "m": Decimal("7950")}))
    assert out.split("|")[:4] == ["2026-11-27", "2026-11-27", "2026-11-27 14:05", "2026-11-27"]
