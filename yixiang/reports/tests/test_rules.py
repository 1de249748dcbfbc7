"""Report arithmetic on hand-made histories; every expected number is worked out in the comments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from yixiang.reports import rules
from yixiang.reports.rules import Change, Timeline

TZ = ZoneInfo("Asia/Shanghai")


def t(month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2025, month, day, hour, tzinfo=TZ)


# A: created 1 Jan at stage 0; 0→1 on 10 Jan; 1→2 on 20 Jan; 2→3 on 1 Feb; 3→E on 15 Feb.
A = Timeline(
    t(1, 1), 5, (Change(t(1, 10), 0, 1), Change(t(1, 20), 1, 2), Change(t(2, 1), 2, 3), Change(t(2, 15), 3, 5))
)
# B: created 5 Jan at stage 1 (no record of it); 1→3 on 25 Jan (a jump); 3→1 on 10 Feb (dropped back).
B = Timeline(t(1, 5), 1, (Change(t(1, 25), 1, 3), Change(t(2, 10), 3, 1)))
# C: created 1 Feb, never changed: stage 0 all along.
C = Timeline(t(2, 1), 0, ())
# D: created 3 Jan with a first row (None → 2) the same moment; 2→rejecting on 5 Feb.
D = Timeline(t(1, 3), -1, (Change(t(1, 3), None, 2), Change(t(2, 5), 2, -1)))


def test_stage_at_reads_the_last_change_at_or_before_the_date():
    assert rules.stage_at(A, t(1, 15)) == 1
    assert rules.stage_at(A, t(1, 20)) == 2  # a change at exactly that moment counts
    assert rules.stage_at(A, t(1, 5)) == 0  # before any change: the stage the first change left
    assert rules.stage_at(A, t(3, 1)) == 5
    assert rules.stage_at(B, t(1, 6)) == 1
    assert rules.stage_at(B, t(2, 5)) == 3
    assert rules.stage_at(C, t(2, 2)) == 0
    assert rules.stage_at(C, t(1, 31)) is None  # did not exist yet
    assert rules.stage_at(D, t(1, 4)) == 2


def test_funnel_at_a_past_date():
    # On 31 Jan: A is 2, B is 3, C does not exist, D is 2.
    counts = rules.funnel_counts(rules.stage_at(tl, t(1, 31)) for tl in (A, B, C, D))
    assert counts == {-1: 0, 0: 0, 1: 0, 2: 2, 3: 1, 4: 0, 5: 0}
    # On 20 Feb: A signed, B back to 1, C 0, D rejecting.
    counts = rules.funnel_counts(rules.stage_at(tl, t(2, 20)) for tl in (A, B, C, D))
    assert counts == {-1: 1, 0: 1, 1: 1, 2: 0, 3: 0, 4: 0, 5: 1}


def test_owner_at():
    rows = [(t(1, 10), 7, None), (t(1, 20), None, 8)]  # 7 released it, 8 claimed it
    assert rules.owner_at(rows, t(1, 5), current=8) == 7
    assert rules.owner_at(rows, t(1, 15), current=8) is None
    assert rules.owner_at(rows, t(1, 25), current=8) == 8
    assert rules.owner_at([], t(1, 25), current=9) == 9


def test_stints_skip_rows_that_do_not_change_the_stage():
    assert rules.stints(D) == [
        rules.Stint(2, t(1, 3), t(2, 5)),
        rules.Stint(-1, t(2, 5), None),
    ]


def test_conversion_over_a_period():
    # Period: January.
    # stage 0: A (0 until 10 Jan) → advanced. C not yet created. → 1/1
    # stage 1: A (10–20 Jan) advanced; B (from 5 Jan) jumped to 3 on 25 Jan → advanced. → 2/2
    # stage 2: A (from 20 Jan) advanced only on 1 Feb: outside; D (from 3 Jan) still 2. → 0/2
    # stage 3: B (from 25 Jan) did not advance. → 0/1
    conv = {c.stage: c for c in rules.conversions([A, B, C, D], t(1, 1, 0), t(2, 1, 0))}
    assert (conv[0].entered, conv[0].advanced, conv[0].rate) == (1, 1, 1.0)
    assert (conv[1].entered, conv[1].advanced) == (2, 2)
    assert (conv[2].entered, conv[2].advanced, conv[2].rate) == (2, 0, 0.0)
    assert (conv[3].entered, conv[3].advanced) == (1, 0)
    assert conv[4].entered == 0 and conv[4].rate is None
    # February: stage 2: A (until 1 Feb 10:00) advanced to 3; D dropped to rejecting: 1/2.
    # stage 3: A → E (advanced), B → 1 (not). 1/2. stage 0: C, 0/1. stage 1: B (from 10 Feb) 0/1.
    conv = {c.stage: c for c in rules.conversions([A, B, C, D], t(2, 1, 0), t(3, 1, 0))}
    assert (conv[2].entered, conv[2].advanced) == (2, 1)
    assert (conv[3].entered, conv[3].advanced) == (2, 1)
    assert (conv[0].entered, conv[0].advanced) == (1, 0)
    assert (conv[1].entered, conv[1].advanced) == (1, 0)
    assert (conv[-1].entered, conv[-1].advanced) == (1, 0)


def test_median_days_in_stage():
    # Stays that ended in Jan–Feb: stage 0: A 9 days (1→10 Jan). stage 1: A 10 days, B 20 days
    # (5→25 Jan) → median 15. stage 2: A 12 days (20 Jan→1 Feb), D 33 days (3 Jan→5 Feb) → 22.5.
    # stage 3: A 14 days, B 16 days → 15. B's stay in 1 since 10 Feb is still open: left out.
    med = {d.stage: d for d in rules.median_days_in_stage([A, B, C, D], t(1, 1, 0), t(3, 1, 0))}
    assert (med[0].median_days, med[0].stints) == (9.0, 1)
    assert (med[1].median_days, med[1].stints) == (15.0, 2)
    assert (med[2].median_days, med[2].stints) == (22.5, 2)
    assert (med[3].median_days, med[3].stints) == (15.0, 2)
    assert med[4].median_days is None


def test_win_rates_learned_from_history():
    # Ever in 0: A, C → A signed: 1/2. In 1: A, B → 1/2. In 2: A, D → 1/2. In 3: A, B → 1/2.
    # In rejecting: D → 0/1. In 4: nobody.
    rates = rules.win_rates([A, B, C, D])
    assert (rates[0].reached, rates[0].signed) == (2, 1)
    assert (rates[3].reached, rates[3].signed) == (2, 1)
    assert (rates[-1].reached, rates[-1].signed) == (1, 0)
    assert rates[4].reached == 0
    assert rates[3].probability(min_sample=2) == 0.5
    assert rates[3].probability(min_sample=3) is None  # too thin a history
    assert rates[5].probability(min_sample=99) == 1.0


def test_signing_before_reaching_a_stage_does_not_count_for_it():
    # Signed, then dropped to 3 (a cancelled deal): being in 3 came after the signing.
    tl = Timeline(t(1, 1), 3, (Change(t(1, 2), 0, 5), Change(t(1, 9), 5, 3)))
    rates = rules.win_rates([tl])
    assert (rates[0].reached, rates[0].signed) == (1, 1)
    assert (rates[3].reached, rates[3].signed) == (1, 0)


def test_buckets_cover_the_period():
    assert rules.buckets(dt.date(2025, 1, 1), dt.date(2025, 1, 20), "week") == [
        dt.date(2024, 12, 30),
        dt.date(2025, 1, 6),
        dt.date(2025, 1, 13),
        dt.date(2025, 1, 20),
    ]
    assert rules.buckets(dt.date(2024, 12, 15), dt.date(2025, 2, 1), "month") == [
        dt.date(2024, 12, 1),
        dt.date(2025, 1, 1),
        dt.date(2025, 2, 1),
    ]
    assert rules.week_of(dt.date(2025, 1, 15)) == (dt.date(2025, 1, 13), dt.date(2025, 1, 19))


def test_pareto_curve():
    # 5 customers: 50, 30, 10, 10, 0 of 100 → cumulative 50, 80, 90, 100, 100.
    amounts = [Decimal(10), Decimal(50), Decimal(0), Decimal(30), Decimal(10)]
    assert rules.pareto_curve(amounts) == [
        (0.0, 0.0),
        (20.0, 50.0),
        (40.0, 80.0),
        (60.0, 90.0),
        (80.0, 100.0),
        (100.0, 100.0),
    ]
    # Sampled: at most 2 points plus the origin, the last one always (100, 100).
    assert rules.pareto_curve(amounts, points=2) == [(0.0, 0.0), (60.0, 90.0), (100.0, 100.0)]
    assert rules.pareto_curve([]) == [(0.0, 0.0)]


def test_loyalty_moves():
    order = ["loyal", "very_satisfied", "satisfied", "indifferent", "unhappy"]
    moves = [("", "satisfied"), ("satisfied", "loyal"), ("loyal", "unhappy"), ("indifferent", "satisfied")]
    assert rules.loyalty_moves(moves, order) == {"up": 2, "down": 1, "new": 1}


def test_digest_due_at_the_users_time():
    at = dt.time(8, 30)
    assert not rules.digest_due(dt.datetime(2025, 3, 3, 8, 29, tzinfo=TZ), at)
    assert rules.digest_due(dt.datetime(2025, 3, 3, 8, 30, tzinfo=TZ), at)
    assert rules.digest_due(dt.datetime(2025, 3, 3, 11, 0, tzinfo=TZ), at)  # a late worker catches up
    assert rules.parse_hhmm("07:05") == dt.time(7, 5)


def test_digest_text_and_markdown():
    sections = [
        rules.DigestSection("due", "到期客户", ["张三 · 逾期 2 天", "李四"], more=3),
        rules.DigestSection("care", "关怀", []),
    ]
    md = rules.digest_markdown("今日待办", sections, link="http://x/agenda")
    assert (
        md == "### 今日待办\n**到期客户** (5)\n- 张三 · 逾期 2 天\n- 李四\n- … +3\n[http://x/agenda](http://x/agenda)"
    )
    text = rules.digest_text("今日待办", sections)
    assert "关怀" not in text and "到期客户 (5)" in text
