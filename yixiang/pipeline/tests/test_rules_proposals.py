"""Stage proposals from ticked signals and from the note's Chinese keywords (kept as data)."""

import datetime as dt

from yixiang.pipeline import rules
from yixiang.pipeline.playbook import get_playbook


def from_text(text):
    pb = get_playbook()
    return rules.propose_from_text(text, pb.keyword_rules, pb.negations)


def test_the_highest_signal_stage_is_proposed():
    pb = get_playbook()
    assert rules.propose_from_signals(["not_hostile", "asks_price"], pb.signal_stage) == 3
    assert rules.propose_from_signals(["answers_questions"], pb.signal_stage) == 1
    assert rules.propose_from_signals(["refuses_contact"], pb.signal_stage) == -1
    assert rules.propose_from_signals([], pb.signal_stage) is None
    assert rules.propose_from_signals(["no_such_code"], pb.signal_stage) is None


def test_price_discount_duration_after_sales_propose_stage_3():
    for note in ("客户问了价格", "有没有优惠", "预付能用多久", "售后怎么保障"):
        assert from_text(note).stage == 3, note


def test_contract_prepay_sign_propose_stage_4():
    for note in ("让我明天带合同过去", "预存三万", "下周签"):
        assert from_text(note).stage == 4, note


def test_compare_results_how_propose_stage_2():
    for note in ("他在和别的公司比较", "问效果如何", "问具体怎么做"):
        assert from_text(note).stage == 2, note


def test_questions_and_analysis_propose_stage_1():
    assert from_text("问他有什么问题，认真听了我的分析").stage == 1


def test_the_highest_stage_wins_and_the_keywords_are_given():
    p = from_text("先比较了效果，又问了价格")
    assert p.stage == 3
    assert p.matched == ("价格",)


def test_a_negated_keyword_does_not_count():
    assert from_text("客户说暂时不签").stage is None
    assert from_text("不签，但问了价格").stage == 3


def test_no_keyword_no_proposal():
    assert from_text("天气不错").stage is None
    assert from_text("").stage is None


def test_custom_rules_are_just_data():
    custom = [rules.KeywordRule(stage=2, words=("demo",))]
    assert rules.propose_from_text("asked for a demo", custom).stage == 2


def test_playbook_has_signals_questions_and_tips_for_every_stage():
    pb = get_playbook()
    for stage in range(0, 5):
        g = pb.guide(stage)
        assert g.signals and g.purpose, stage
        assert pb.lift_tips(stage), stage  # how to reach the next stage
    assert [g.stage for g in pb.guides_for_form(2)] == [2, 3]
    assert "决策人" in "".join(pb.lift_tips(3))  # 3→4: find the decision-maker


def test_grade_follows_the_expected_month():
    today = dt.date(2025, 11, 20)
    assert rules.grade_for_month(dt.date(2025, 11, 1), today) == "A"
    assert rules.grade_for_month(dt.date(2025, 12, 1), today) == "B"
    assert rules.grade_for_month(dt.date(2026, 2, 1), today) == "C"
    assert rules.grade_for_month(dt.date(2026, 3, 1), today) == "D"
    assert rules.grade_for_month(None, today) == "D"


def test_follow_up_time_never_in_the_future():
    now = dt.datetime(2025, 3, 3, 10, tzinfo=dt.UTC)
    kw = {"backdate_days": 60, "future_tolerance_seconds": 120}
    assert rules.followup_time_problem(now, now, **kw) is None
    assert rules.followup_time_problem(now - dt.timedelta(days=3), now, **kw) is None
    assert rules.followup_time_problem(now + dt.timedelta(hours=1), now, **kw) == "future"
    assert rules.followup_time_problem(now - dt.timedelta(days=61), now, **kw) == "too_old"


def test_signing_and_next_contact_dates_are_bounded():
    import datetime as _dt

    from yixiang.pipeline import rules as r

    today = _dt.date(2026, 12, 2)
    assert r.signing_date_problem(today, today) is None
    assert r.signing_date_problem(_dt.date(2000, 1, 1), today) is None
    assert r.signing_date_problem(_dt.date(1, 1, 1), today) == "too_old"
    assert r.signing_date_problem(_dt.date(2026, 12, 3), today) == "future"
    assert not r.next_contact_too_far(today + _dt.timedelta(days=731), today)
    assert r.next_contact_too_far(_dt.date(9999, 12, 31), today)
