"""Payout and renewal timing, tiers, Pareto, lifecycle, channels, message rendering, signatures."""

import datetime as dt
from decimal import Decimal

from yixiang.aftercare import rules

D = dt.date
T = rules.TierThresholds(
    a_contribution=Decimal(100000), a_funds=Decimal(200000),
    b_contribution=Decimal(30000), b_funds=Decimal(50000), b_opportunities=2,
    c_contribution=Decimal(1), c_funds=Decimal(1), c_opportunities=1,
)  # fmt: skip


def test_payout_notice_starts_seven_days_ahead_and_ends_on_the_day():
    due = D(2025, 6, 20)
    assert rules.payout_notice_on(due, 7) == D(2025, 6, 13)
    assert not rules.payout_needs_notice(due, D(2025, 6, 12), 7)
    assert rules.payout_needs_notice(due, D(2025, 6, 13), 7)
    assert rules.payout_needs_notice(due, due, 7)
    assert not rules.payout_needs_notice(due, D(2025, 6, 21), 7)


def test_payout_late_only_after_due_date_plus_grace_and_never_when_paid():
    due = D(2025, 6, 20)
    assert not rules.payout_is_late(due, due, paid=False)
    assert rules.payout_is_late(due, D(2025, 6, 21), paid=False)
    assert not rules.payout_is_late(due, D(2025, 6, 21), paid=True)
    assert not rules.payout_is_late(due, D(2025, 6, 22), paid=False, grace_days=2)
    assert rules.payout_is_late(due, D(2025, 6, 23), paid=False, grace_days=2)


def test_renewal_talk_one_month_before_the_end():
    end = D(2025, 12, 31)
    assert rules.renewal_notice_on(end, 30) == D(2025, 12, 1)
    assert not rules.renewal_due(end, D(2025, 11, 30), 30)
    assert rules.renewal_due(end, D(2025, 12, 1), 30)
    assert not rules.renewal_due(None, D(2025, 12, 1), 30)


def test_value_tiers_by_contribution_or_potential():
    assert rules.value_tier(Decimal(150000), None, 0, T) == "A"
    assert rules.value_tier(Decimal(0), Decimal(250000), 0, T) == "A"  # funds alone: key potential
    assert rules.value_tier(Decimal(30000), None, 0, T) == "B"
    assert rules.value_tier(Decimal(0), None, 2, T) == "B"
    assert rules.value_tier(Decimal(500), None, 0, T) == "C"
    assert rules.value_tier(Decimal(0), None, 1, T) == "C"
    assert rules.value_tier(Decimal(0), Decimal(0), 0, T) == "D"


def test_pareto_split_counts_whole_customers_and_zero_revenue_ones():
    split = rules.pareto_split([Decimal(x) for x in (80000, 5000, 5000, 4000, 3000, 2000, 1000, 0, 0, 0)])
    assert (split.customers, split.top_count) == (10, 2)
    assert split.total == Decimal(100000)
    assert split.top_revenue == Decimal(85000)
    assert split.share == Decimal("0.85") and split.percent == 85
    assert rules.pareto_split([Decimal(10), Decimal(5), Decimal(5)]).top_count == 1  # ceil(0.6)
    assert rules.pareto_split([]).share == 0


def test_lifecycle_steps():
    base = {"qualification_percent": 0, "signed_referrals": 0, "loyalty": "", "purchases": 0}
    assert rules.lifecycle_step(stage=0, **base) == "suspect"
    assert rules.lifecycle_step(stage=1, **base) == "prospect"
    assert rules.lifecycle_step(stage=0, **{**base, "qualification_percent": 60}) == "prospect"
    assert rules.lifecycle_step(stage=5, **base) == "first_time_buyer"
    assert rules.lifecycle_step(stage=5, **{**base, "purchases": 2}) == "repeat_buyer"
    assert rules.lifecycle_step(stage=5, **{**base, "purchases": 3}) == "loyal_client"
    assert rules.lifecycle_step(stage=5, **{**base, "purchases": 3, "loyalty": "angry"}) == "repeat_buyer"
    assert rules.lifecycle_step(stage=5, **{**base, "purchases": 1, "signed_referrals": 1}) == "advocate"


def test_lapsing_after_the_set_time_without_purchase_or_contact():
    today = D(2025, 6, 30)
    last = rules.last_activity([D(2025, 1, 1), None, D(2025, 4, 1)])
    assert last == D(2025, 4, 1)
    assert rules.is_lapsing(last, today, 90)
    assert not rules.is_lapsing(last, today, 91)
    assert not rules.is_lapsing(None, today, 90)


def test_referral_prerequisites():
    all_codes = [c for c, _l in rules.REFERRAL_PREREQUISITES]
    assert len(all_codes) == 5
    assert rules.conversion_rate(4, 1) == 25 and rules.conversion_rate(0, 0) == 0


def test_channel_follows_preference_then_fallback():
    fb = ["sms", "email", "wechat"]
    assert (
        rules.resolve_channel("email", phone=True, email=True, wechat=False, robot_ready=False, fallback=fb) == "email"
    )
    assert (
        rules.resolve_channel("email", phone=True, email=False, wechat=False, robot_ready=False, fallback=fb) == "sms"
    )
    assert rules.resolve_channel("phone", phone=True, email=True, wechat=False, robot_ready=False, fallback=fb) == "sms"
    assert (
        rules.resolve_channel("wechat", phone=False, email=True, wechat=True, robot_ready=True, fallback=fb) == "wechat"
    )
    # WeChat needs the robot configured.
    assert (
        rules.resolve_channel("wechat", phone=False, email=True, wechat=True, robot_ready=False, fallback=fb) == "email"
    )
    assert rules.resolve_channel("visit", phone=False, email=False, wechat=False, robot_ready=True, fallback=fb) is None


def test_render_message_fills_known_placeholders_only():
    tpl = "{name}您好，我是{rep}，电话{rep_phone}。{unknown} {}"
    assert rules.unknown_placeholders(tpl) == ["unknown"]
    out = rules.render_message(tpl, {"name": "张三", "rep": "李四", "rep_phone": ""})
    assert out == "张三您好，我是李四，电话。{unknown} {}"


def test_sms_billing_segments_and_costs():
    assert rules.sms_segments("a" * 70) == 1
    assert rules.sms_segments("a" * 71) == 2
    assert rules.sms_segments("a" * 134) == 2
    assert rules.sms_segments("a" * 135) == 3
    costs = {"sms": Decimal("0.20"), "email": Decimal(0), "wechat": Decimal(0)}
    assert rules.message_cost("sms", "短信" * 40, costs) == Decimal("0.40")
    assert rules.message_cost("email", "x", costs) == 0
    # DOMAIN.md: SMS to 100 customers ≈ 20 yuan.
    assert sum(rules.message_cost("sms", "您好", costs) for _ in range(100)) == Decimal("20.00")


def test_yunpian_reply_signature_matches_the_documented_example():
    payload = {
        "base_extend": "8888", "extend": "01", "id": "2a70c6bb4f2845da816ea1bfe5732747",
        "mobile": "15205201314", "reply_time": "2014-03-17 22:55:21", "text": "收到了，谢谢！",
        "_sign": "ignored",
    }  # fmt: skip
    assert rules.yunpian_sign(payload, "0000") == "393d079e0a00912335adfe46f4a2e10f"


def test_reply_window():
    sent = dt.datetime(2025, 6, 1, 9, 0, tzinfo=dt.UTC)
    assert not rules.reply_window_over(sent, sent + dt.timedelta(hours=11, minutes=59), 12)
    assert rules.reply_window_over(sent, sent + dt.timedelta(hours=12), 12)


def test_contract_problems_bound_dates_and_payouts():
    Dec = Decimal
    contract_problems = rules.contract_problems
    today = dt.date(2026, 12, 2)
    ok = contract_problems(
        start=dt.date(2026, 1, 1),
        end=dt.date(2027, 1, 1),
        amount=Dec(1000),
        payouts=[(dt.date(2026, 6, 1), Dec(500)), (dt.date(2026, 12, 1), Dec(500))],
        today=today,
    )
    assert ok == {}

    def one(**kw):
        args = {"start": dt.date(2026, 1, 1), "end": None, "amount": Dec(1000), "payouts": [], "today": today}
        return contract_problems(**{**args, **kw})

    assert one(start=dt.date(1, 1, 1)) == {"start_date": "start_too_early"}
    assert one(start=dt.date(9999, 12, 31)) == {"start_date": "start_too_late"}
    assert one(start=dt.date(2031, 12, 2)) == {}
    assert one(end=dt.date(2025, 1, 1)) == {"end_date": "end_before_start"}
    assert one(end=dt.date(2056, 1, 2)) == {"end_date": "end_too_late"}
    assert one(payouts=[(dt.date(9999, 1, 1), Dec(1))]) == {"payouts": "payout_out_of_span"}
    assert one(payouts=[(dt.date(2026, 2, 1), Dec("1000.01"))]) == {"payouts": "payouts_above_amount"}
    assert one(start=dt.date(2024, 2, 29), end=dt.date(2054, 2, 28)) == {}
