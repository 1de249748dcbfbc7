"""Judgment accuracy arithmetic for the team review."""

import datetime as dt

from yixiang.pipeline import rules

T0 = dt.datetime(2025, 1, 10, 10, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def test_a_hot_judgment_is_right_when_the_customer_signs_within_the_window():
    now = T0 + 200 * DAY
    acc = rules.hot_judgment_accuracy(
        [
            (T0, T0 + 20 * DAY),  # signed within 90 days: right
            (T0, T0 + 120 * DAY),  # signed too late: wrong
            (T0, None),  # window over, never signed: wrong
            (now - 10 * DAY, None),  # window still open: pending
        ],
        now=now,
        within_days=90,
    )
    assert (acc.right, acc.decided, acc.pending) == (1, 3, 1)
    assert acc.share == 0.3333


def test_no_decided_judgment_has_no_share():
    acc = rules.hot_judgment_accuracy([(T0, None)], now=T0 + DAY, within_days=90)
    assert acc.share is None and acc.pending == 1


def test_a_rise_taken_back_later_is_reversed():
    changes = [
        (T0, 0, 1),  # rise to 1; the stage never falls below 1 afterwards → stands
        (T0 + DAY, 1, 3),  # rise to 3, later dropped to 2 → reversed
        (T0 + 2 * DAY, 3, 2),  # a drop, not a judgment
        (T0 + 3 * DAY, 2, 4),  # rise to 4, nothing after → stands
    ]
    assert rules.reversed_rises(changes) == [False, True, False, False]


def test_the_first_stage_and_signing_are_not_judgments():
    assert rules.reversed_rises([(T0, None, 2), (T0 + DAY, 2, 5), (T0 + 2 * DAY, 5, 0)]) == [False, False, False]


def test_share():
    assert rules.share(1, 4) == 0.25
    assert rules.share(0, 0) is None
