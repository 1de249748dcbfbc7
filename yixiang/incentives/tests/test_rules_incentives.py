"""The seed's scheme (seed 002, sample 3), rule by rule, on the pure functions (no database)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import replace
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yixiang.incentives import rules as r

APRIL = dt.date(2011, 4, 1)
NORTH = 1
SOUTH = 2


def cust(cid: int, paid, developer: int = 1, order: int = 1, *, region: int = NORTH, faked: bool = False):
    return r.NewCustomer(
        customer_id=cid,
        name=f"c{cid}",
        developer_id=developer,
        region_id=region,
        paid=Decimal(str(paid)),
        position=order,
        faked=faked,
    )


def manager(uid: int = 1, threshold: int = 2, pay: int = 3000, *, region: int = NORTH, days: int = 30, **kw):
    return r.Person(
        user_id=uid,
        username=f"m{uid}",
        role="rep",
        region_id=region,
        days_on_staff=days,
        has_row=True,
        threshold=threshold,
        performance_pay=pay,
        target_late=False,
        **kw,
    )


def director(uid: int = 90, *, region: int = NORTH, target: int | None = None, days: int = 30, **kw):
    return r.Person(
        user_id=uid,
        username=f"d{uid}",
        role="director",
        region_id=region,
        days_on_staff=days,
        has_row=target is not None,
        target=target,
        **kw,
    )


def month(people, customers=(), *, scheme=r.SEED, **kw) -> r.MonthResult:
    return r.compute_month(
        r.MonthInput(month=APRIL, scheme=scheme, people={p.user_id: p for p in people}, customers=list(customers), **kw)
    )


def unlimited(**kw) -> r.Scheme:
    """The seed's numbers (funding changes where a reward's money comes from, never its amount)."""
    return replace(r.SEED, **kw)


def total_of(result: r.MonthResult, uid: int) -> int:
    return result.by_user()[uid].total


def kinds(result: r.MonthResult, uid: int) -> list[tuple[str, int, int | None]]:
    return [(x.kind, x.amount, x.customer_id) for x in result.by_user()[uid].lines]


def manager_total(threshold: int, *paid, pay: int = 3000, probation: bool = False) -> int:
    people = [manager(threshold=threshold, pay=pay, on_probation=probation)]
    customers = [cust(i + 1, p, order=i + 1) for i, p in enumerate(paid)]
    return total_of(month(people, customers, scheme=unlimited()), 1)


# --- Valid customers (items 4 and 7) ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("paid", "units"),
    [("7949.99", 0), ("7950", 1), ("19999", 1), ("49999.99", 1), ("50000", 2), ("1000000", 2), ("0", 0)],
)
def test_a_new_customer_counts_by_its_first_month_payments(paid, units):
    assert r.customer_units(Decimal(paid), r.SEED) == units


def test_only_the_schemes_product_categories_count_and_an_empty_list_counts_every_payment():
    jiankaowang = replace(r.SEED, counted_categories=("煎烤旺", "低温产品"))
    assert r.payment_counts("煎烤旺", jiankaowang) and r.payment_counts("低温产品", jiankaowang)
    assert not r.payment_counts("饮料", jiankaowang) and not r.payment_counts("", jiankaowang)
    assert r.payment_counts("饮料", r.SEED) and r.payment_counts("", r.SEED)
    assert r.parse_categories("煎烤旺，低温产品、 煎烤旺, ") == ["煎烤旺", "低温产品"]


# --- Threshold 2 (item 2) ----------------------------------------------------------------------------


def test_threshold_2_with_no_customer_costs_800():
    assert manager_total(2) == -800


def test_threshold_2_with_one_customer_costs_300():
    assert manager_total(2, 8000) == -300


def test_threshold_2_with_two_customers_is_neither_reward_nor_penalty():
    assert manager_total(2, 8000, 9000) == 0


@pytest.mark.parametrize(("paid", "reward"), [(7950, 300), (19999, 300), (20000, 500), (49999, 500), (50000, 1000)])
def test_threshold_2_each_customer_beyond_earns_its_payment_step(paid, reward):
    assert manager_total(2, 8000, 9000, paid) == reward


def test_threshold_2_penalty_never_exceeds_the_performance_pay():
    assert manager_total(2, pay=500) == -500  # 800 due, 500 is all there is
    assert manager_total(2, 8000, pay=200) == -200  # 300 due
    assert manager_total(2, 8000, pay=0) == 0


def test_an_invalid_customer_does_not_count_but_is_listed():
    result = month([manager()], [cust(1, 7000), cust(2, 8000, order=2)], scheme=unlimited())
    assert kinds(result, 1) == [("not_valid", 0, 1), ("counted", 0, 2), ("penalty", -300, None)]


# --- Threshold 1 (item 3) ----------------------------------------------------------------------------


def test_threshold_1_with_no_customer_costs_500():
    assert manager_total(1) == -500
    assert manager_total(1, pay=120) == -120


def test_threshold_1_with_one_customer_is_neither_reward_nor_penalty():
    assert manager_total(1, 8000) == 0


@pytest.mark.parametrize(("paid", "reward"), [(7950, 200), (20000, 400), (50000, 700)])
def test_threshold_1_each_customer_beyond_earns_its_payment_step(paid, reward):
    assert manager_total(1, 8000, paid) == reward


def test_rewards_add_up_over_several_customers_beyond():
    assert manager_total(2, 8000, 8000, 8000, 25000, 60000) == 300 + 500 + 1000


# --- The 50,000 double count and its no-split rule (item 4) -----------------------------------------------


def test_one_customer_of_50000_fills_a_threshold_of_2_alone():
    assert manager_total(2, 50000) == 0


def test_a_50000_customer_used_for_the_threshold_earns_no_reward_even_when_it_overshoots():
    # 8,000 fills 1 of 2; the 60,000 customer counts 2 (reaching 3) but is never split: no reward.
    result = month([manager()], [cust(1, 8000, order=1), cust(2, 60000, order=2)], scheme=unlimited())
    assert result.by_user()[1].total == 0
    counted = [x for x in result.by_user()[1].lines if x.customer_id == 2][0]
    assert counted.kind == "counted" and counted.params["overshoot"] == 1
    assert result.by_user()[1].valid_customers == 3


def test_a_50000_customer_after_the_threshold_earns_the_top_step_once():
    assert manager_total(2, 8000, 8000, 50000) == 1000


def test_with_threshold_1_a_50000_customer_fills_it_and_earns_nothing():
    assert manager_total(1, 50000) == 0
    assert manager_total(1, 50000, 8000) == 200


def test_valid_customers_fill_the_threshold_in_the_order_the_region_reports():
    # Reported first: the 60,000 customer fills the threshold; the later 8,000 earns 300.
    early_big = month([manager()], [cust(1, 60000, order=1), cust(2, 8000, order=2)], scheme=unlimited())
    assert total_of(early_big, 1) == 300
    # Reported the other way round: 8,000 then 60,000 (no split) fill it; nothing earned.
    late_big = month([manager()], [cust(1, 60000, order=2), cust(2, 8000, order=1)], scheme=unlimited())
    assert total_of(late_big, 1) == 0


# --- Probation and days on staff (item 9) -------------------------------------------------------------


def test_probation_halves_penalties_and_rewards():
    assert manager_total(2, probation=True) == -400
    assert manager_total(2, 8000, probation=True) == -150
    assert manager_total(1, probation=True) == -250
    assert manager_total(2, 8000, 8000, 20000, probation=True) == 250
    assert manager_total(1, 8000, 50000, probation=True) == 350


def test_probation_is_applied_before_the_performance_pay_cap():
    assert manager_total(2, pay=300, probation=True) == -300  # half of 800 is 400, only 300 to deduct


def test_probation_rounds_half_up_to_whole_yuan():
    assert r.apply_factor(301, Decimal("0.5")) == 151
    assert r.apply_factor(-301, Decimal("0.5")) == -151


def test_fewer_than_21_days_on_staff_is_not_assessed():
    assert r.days_on_staff(APRIL, dt.date(2011, 4, 10)) == 21
    assert r.days_on_staff(APRIL, dt.date(2011, 4, 11)) == 20
    assert r.days_on_staff(APRIL, dt.date(2011, 5, 1)) == 0
    assert r.days_on_staff(APRIL, None) == 30
    result = month([manager(days=20), manager(2, days=21)])
    assert 1 not in result.by_user()
    assert total_of(result, 2) == -800


def test_a_new_manager_not_assessed_does_not_raise_the_directors_threshold():
    result = month([manager(1, days=20), manager(2, days=30), director()])
    assert result.by_user()[90].threshold == 2


# --- The director (item 5) -------------------------------------------------------------------------------


def test_the_regions_reported_order_decides_and_dates_inside_the_month_do_not():
    # Item 8: "当月开发客户顺序以大区上报为准,开发时间当月内不分先后". NewCustomer has no date to sort by.
    assert "reported_on" not in {f.name for f in dataclasses.fields(r.NewCustomer)}
    big_first = r.in_reported_order([cust(2, 8000, order=2), cust(1, 60000, order=1)])
    assert [c.customer_id for c in big_first] == [1, 2]
    small_first = month([manager()], [cust(1, 60000, order=7), cust(2, 8000, order=3)])
    assert kinds(small_first, 1) == [("counted", 0, 2), ("counted", 0, 1)]  # the 60,000 one is not split


def test_a_directors_or_a_provincial_managers_own_row_does_not_add_to_the_directors_threshold():
    # Item 5: "临界线为所辖在岗区域经理(含)的总和(不含大区/省经理)".
    provincial = replace(manager(5, 2), role="admin")  # a row above the region, assessed like a manager
    people = [manager(1, 2), manager(2, 1), provincial, director()]
    result = month(people)
    assert result.by_user()[90].threshold == 3  # 2 + 1, not 2 + 1 + 2
    assert result.by_user()[5].threshold == 2  # still assessed on their own row
    assert r.counts_toward_director(manager(1)) and not r.counts_toward_director(provincial)
    assert not r.counts_toward_director(director())


def test_director_threshold_is_the_sum_of_the_managers_on_duty():
    people = [manager(1, 2), manager(2, 1), manager(3, 2, region=SOUTH), director()]
    result = month(people, scheme=unlimited())
    st_ = result.by_user()[90]
    assert st_.threshold == 3 and st_.valid_customers == 0
    assert st_.total == -900


def test_director_gets_300_per_customer_over_and_the_region_counts_double_customers_twice():
    people = [manager(1, 2), manager(2, 1), director()]
    customers = [cust(1, 8000, 1), cust(2, 50000, 1, order=2), cust(3, 9000, 2)]  # 1 + 2 + 1 = 4 of 3
    result = month(people, customers, scheme=unlimited())
    assert result.by_user()[90].valid_customers == 4
    assert total_of(result, 90) == 300


def test_director_exactly_on_threshold_is_neither_reward_nor_penalty():
    people = [manager(1, 2), director()]
    result = month(people, [cust(1, 8000), cust(2, 8000, order=2)], scheme=unlimited())
    assert kinds(result, 90) == [("director_met", 0, None)]


def test_director_customers_of_other_regions_do_not_count():
    people = [manager(1, 2), manager(2, 2, region=SOUTH), director()]
    result = month(people, [cust(1, 8000, 2, region=SOUTH), cust(2, 8000, 2, order=2, region=SOUTH)])
    assert result.by_user()[90].valid_customers == 0


def test_director_approved_target_counts_when_lower_than_the_sum():
    people = [manager(1, 2), manager(2, 2), director(target=1)]
    result = month(people, [cust(1, 8000)], scheme=unlimited())
    assert result.by_user()[90].threshold == 1
    assert total_of(result, 90) == 0
    higher = month([manager(1, 2), manager(2, 2), director(target=9)], scheme=unlimited())
    assert higher.by_user()[90].threshold == 4  # a higher target does not raise the sum


def test_director_penalty_is_not_capped_by_performance_pay_but_halved_on_probation():
    people = [manager(1, 2), manager(2, 2), director(on_probation=True)]
    assert total_of(month(people), 90) == -600


def test_a_director_with_a_zero_target_and_nothing_carried_is_not_incentivised():
    result = month([manager(1, 2), director(target=0)], [cust(1, 8000), cust(2, 8000, order=2), cust(3, 9000, order=3)])
    assert 90 not in result.by_user()


def test_a_zero_target_month_picks_up_the_backlog_of_unmet_targets():
    result = month([manager(1, 2), manager(2, 2), director(target=0)], [cust(1, 8000)], backlog_in={90: 3})
    st_ = result.by_user()[90]
    assert (st_.approved_target, st_.threshold, st_.valid_customers) == (3, 3, 1)
    assert st_.total == -600
    assert result.backlog_out[90] == 2  # the backlog shrinks by what was developed


def test_unmet_targets_grow_the_backlog_in_a_month_with_its_own_target():
    result = month([manager(1, 2), manager(2, 2), director(target=3)], [cust(1, 8000)], backlog_in={90: 1})
    assert result.by_user()[90].threshold == 3  # the backlog waits for a zero-target month
    assert result.backlog_out[90] == 1 + 2


def test_only_a_month_whose_target_is_0_takes_the_earlier_unmet_targets():
    # DOMAIN.md §4 (item 6): "Only a month whose target is 0 carries earlier unmet targets forward
    # and allocates them; 0 with no area left to develop → the region's head is not assessed."
    people = [manager(1, 2), manager(2, 2)]
    with_own_target = month([*people, director(target=1)], backlog_in={90: 3})
    assert with_own_target.by_user()[90].threshold == 1  # its own target; the 3 carried wait
    zero_target = month([*people, director(target=0)], backlog_in={90: 3})
    assert zero_target.by_user()[90].threshold == 3  # the carried 3 become this month's target
    nothing_left = month([*people, director(target=0)], backlog_in={90: 0})
    assert 90 not in nothing_left.by_user()  # 0 and nothing left to develop: not assessed
    assert nothing_left.backlog_out[90] == 0


def test_carry_over_rules():
    assert r.approved_target(filed=None, backlog_in=5) is None
    assert r.approved_target(filed=2, backlog_in=5) == 2
    assert r.approved_target(filed=0, backlog_in=5) == 5
    assert r.next_backlog(filed=0, backlog_in=5, threshold=4, count=1) == 4
    assert r.next_backlog(filed=0, backlog_in=5, threshold=4, count=9) == 0
    assert r.next_backlog(filed=3, backlog_in=1, threshold=3, count=5) == 1
    assert r.next_backlog(filed=None, backlog_in=0, threshold=4, count=1) == 3


# --- Faked customers (item 8) ------------------------------------------------------------------------


def test_a_faked_customer_costs_3000_to_the_person_and_1000_to_the_director_in_the_month_found():
    found = r.FakedFind(customer_id=7, name="c7", developer_id=1, region_id=NORTH, developed_month=dt.date(2011, 2, 1))
    result = month([manager(1, 2), director(), director(91, region=SOUTH)], [cust(1, 8000), cust(2, 8000, order=2)],
                   faked_found=[found], scheme=unlimited())  # fmt: skip
    assert ("fraud_penalty", -3000, 7) in kinds(result, 1)
    assert ("fraud_penalty", -1000, 7) in kinds(result, 90)
    assert 91 not in result.by_user()  # another region's director
    assert total_of(result, 1) == -3000


def test_fraud_fines_are_halved_on_probation_like_every_sanction_but_not_capped_by_pay():
    # Item 9: "试用期客户开发的奖励与处罚,均按照50%执行" covers the fraud fines too.
    found = r.FakedFind(customer_id=7, name="c7", developer_id=1, region_id=NORTH, developed_month=APRIL)
    people = [manager(1, 2, pay=100, on_probation=True), director(on_probation=True), director(91, region=NORTH)]
    result = month(people, [cust(1, 50000)], faked_found=[found])
    assert ("fraud_penalty", -1500, 7) in kinds(result, 1)  # more than the 100 of performance pay
    assert ("fraud_penalty", -500, 7) in kinds(result, 90)  # a director on probation
    assert ("fraud_penalty", -1000, 7) in kinds(result, 91)  # a director not on probation


def test_a_faked_customer_never_counts():
    result = month([manager(1, 1), director()], [cust(1, 60000, faked=True)], scheme=unlimited())
    assert kinds(result, 1) == [("not_valid", 0, 1), ("penalty", -500, None)]
    assert result.by_user()[90].valid_customers == 0


# --- Funding (item 11) --------------------------------------------------------------------------------------


def test_rewards_are_paid_from_the_months_penalties_first_then_the_fund_then_management():
    people = [manager(1, 2), manager(2, 2, pay=800), manager(3, 2, pay=200)]
    customers = [cust(1, 8000, 1, 1), cust(2, 8000, 1, 2), cust(3, 20000, 1, 3), cust(4, 50000, 1, 4)]
    result = month(people, customers, fund_before=600, management_fund=10000)
    # Penalties: 800 (m2) + 200 (m3, capped) = 1,000. Rewards: 500 then 1,000.
    rewards = [(x.customer_id, x.amount, x.funding) for x in result.by_user()[1].lines if x.kind == "reward"]
    assert rewards == [(3, 500, "month_penalties"), (4, 500, "month_penalties"), (4, 500, "penalty_fund")]
    f = result.funding
    assert (f.penalties, f.from_penalties, f.from_fund, f.from_management, f.shortfall) == (1000, 1000, 500, 0, 0)
    assert f.fund_after == 100


def test_then_the_management_assessment_fund_then_the_team_efficiency_wages_pay():
    customers = [cust(i, 50000, 1, i) for i in range(1, 5)]  # the first fills the threshold, 3 × 1,000 earned
    result = month([manager(1, 2)], customers, management_fund=1500, efficiency_wages=1000)
    lines = [(x.customer_id, x.amount, x.funding) for x in result.by_user()[1].lines if x.kind == "reward"]
    assert lines == [
        (2, 1000, "management_fund"),
        (3, 500, "management_fund"),
        (3, 500, "efficiency_wages"),
        (4, 500, "efficiency_wages"),
        (4, 500, "not_covered"),
    ]
    f = result.funding
    assert (f.from_management, f.from_wages, f.shortfall) == (1500, 1000, 500)
    assert (f.management_fund, f.efficiency_wages) == (1500, 1000)


def test_an_earned_reward_is_always_paid_and_a_month_without_funds_shows_the_shortfall():
    customers = [cust(i, 50000, 1, i) for i in range(1, 5)]
    result = month([manager(1, 2)], customers)  # no penalties, no fund, nothing entered
    assert total_of(result, 1) == 3000  # nothing withheld
    assert result.funding.shortfall == 3000 and result.funding.held_back == 0


def test_leftover_penalties_go_into_the_fund():
    result = month([manager(1, 2), manager(2, 1)], [cust(1, 8000)], fund_before=1000)
    assert result.funding.penalties == 800 + 0
    assert result.funding.fund_after == 1800


def test_directors_rewards_are_funded_after_the_managers():
    people = [manager(1, 1), director()]
    customers = [cust(1, 8000, 1, 1), cust(2, 8000, 1, 2)]
    result = month(people, customers, management_fund=200)
    assert [(x.amount, x.funding) for x in result.by_user()[1].lines if x.kind == "reward"] == [
        (200, "management_fund")
    ]
    assert [(x.amount, x.funding) for x in result.by_user()[90].lines] == [(300, "not_covered")]


def test_a_rewards_position_in_the_regions_report_decides_which_source_funds_it():
    customers = [cust(1, 8000, 1, 3), cust(2, 50000, 1, 1), cust(3, 20000, 1, 2), cust(4, 8000, 1, 4)]
    result = month([manager(1, 1)], customers, management_fund=500)
    # Reported order: 2 fills the threshold, then 3 (+400), 1 (+200), 4 (+200).
    lines = [(x.customer_id, x.amount, x.funding) for x in result.by_user()[1].lines if x.kind == "reward"]
    assert lines == [(3, 400, "management_fund"), (1, 100, "management_fund"), (1, 100, "not_covered"),
                     (4, 200, "not_covered")]  # fmt: skip


# --- Activity re-assessment (item 10) -------------------------------------------------------------------------


def test_active_months_count_the_months_with_a_shipment_in_the_window():
    shipped = [dt.date(2011, 4, 1), dt.date(2011, 4, 1), dt.date(2011, 6, 1), dt.date(2011, 7, 1)]
    assert r.active_months(APRIL, shipped, 3) == 2
    assert r.active_months(APRIL, [dt.date(2011, 7, 1)], 3) == 0


def _stated(customers, threshold=2, pay=3000, scheme=None, people=None):
    scheme = scheme or unlimited()
    people = people or [manager(1, threshold, pay), director()]
    return month(people, customers, scheme=scheme)


def _inactive(*ids):
    return {i: r.Inactive(customer_id=i, name=f"c{i}", active=1) for i in ids}


def test_an_inactive_reward_customer_has_its_reward_undone():
    stated = _stated([cust(1, 8000, order=1), cust(2, 8000, order=2), cust(3, 25000, order=3)])
    lines = r.reassess_for_activity(stated.by_user()[1], _inactive(3), month=APRIL, scheme=unlimited())
    assert [(x.kind, x.amount, x.customer_id, x.refers_to) for x in lines] == [("activity_adjustment", -500, 3, APRIL)]


def test_an_inactive_threshold_customer_recomputes_the_penalty_and_shifts_the_next_customer():
    stated = _stated([cust(1, 8000, order=1), cust(2, 8000, order=2), cust(3, 25000, order=3)])
    assert stated.by_user()[1].total == 500
    lines = r.reassess_for_activity(stated.by_user()[1], _inactive(1), month=APRIL, scheme=unlimited())
    # Without customer 1, customers 2 and 3 fill the threshold: the 500 reward is undone.
    assert [x.amount for x in lines] == [-500]
    lines = r.reassess_for_activity(stated.by_user()[1], _inactive(1, 2), month=APRIL, scheme=unlimited())
    # Without 1 and 2: customer 3 alone, 1 of 2 reached → −300; step by step: −500, then −300.
    assert [(x.customer_id, x.amount) for x in lines] == [(1, -500), (2, -300)]


def test_an_inactive_customer_of_a_manager_short_of_the_threshold_raises_the_penalty():
    stated = _stated([cust(1, 8000)])
    lines = r.reassess_for_activity(stated.by_user()[1], _inactive(1), month=APRIL, scheme=unlimited())
    assert [x.amount for x in lines] == [-500]  # −300 becomes −800


def test_the_re_assessment_undoes_only_what_was_paid_when_a_month_closed_with_a_held_back_reward():
    # Months closed before rewards were always paid may hold back part of a reward.
    customers = [cust(1, 50000, order=1), cust(2, 50000, order=2), cust(3, 50000, order=3)]
    stated = _stated(customers, people=[manager(1, 2)])
    st_ = stated.by_user()[1]
    st_.lines = [x if x.customer_id != 3 else replace(x, amount=300, funding=r.FROM_MANAGEMENT) for x in st_.lines] + [
        replace(st_.lines[-1], amount=0, funding=r.HELD_BACK, held_back=700)
    ]
    assert st_.total == 1300  # 1,000 for customer 2, 300 of 1,000 for customer 3
    lines = r.reassess_for_activity(st_, _inactive(3), month=APRIL, scheme=r.SEED)
    assert [x.amount for x in lines] == [-300]


def test_the_director_loses_the_inactive_customers_of_the_region():
    customers = [cust(1, 8000, order=1), cust(2, 8000, order=2), cust(3, 50000, order=3)]
    stated = _stated(customers)
    assert stated.by_user()[90].total == 600
    lines = r.reassess_for_activity(stated.by_user()[90], _inactive(3), month=APRIL, scheme=unlimited())
    assert [(x.customer_id, x.amount) for x in lines] == [(3, -600)]
    lines = r.reassess_for_activity(stated.by_user()[90], _inactive(1, 3), month=APRIL, scheme=unlimited())
    assert [x.amount for x in lines] == [-300, -600]  # 4 → 3 (+300), then 3 → 1 (−300)


def test_an_active_customer_is_not_re_assessed():
    stated = _stated([cust(1, 8000)])
    assert r.reassess_for_activity(stated.by_user()[1], _inactive(99), month=APRIL, scheme=unlimited()) == []


# --- Corrections of closed months ---------------------------------------------------------------------------


def test_a_correction_carries_what_changed_since_closing_minus_what_was_corrected_before():
    frozen = _stated([cust(1, 8000)]).by_user()  # manager −300
    now = _stated([cust(1, 8000), cust(2, 9000, order=2)]).by_user()  # manager 0
    lines = r.correction_lines(month=APRIL, recomputed=now, frozen=frozen, already={})
    assert lines[1].amount == 300 and lines[1].kind == "correction" and lines[1].refers_to == APRIL
    assert 1 not in r.correction_lines(month=APRIL, recomputed=now, frozen=frozen, already={1: 300})


# --- Dates -------------------------------------------------------------------------------------------------


def test_targets_are_due_on_the_6th_at_0800_shanghai_time_and_later_is_late():
    tz = ZoneInfo("Asia/Shanghai")
    due = r.target_due(APRIL, 6, dt.time(8, 0), tz)
    assert due == dt.datetime(2011, 4, 6, 8, 0, tzinfo=tz)
    assert not r.filed_late(dt.datetime(2011, 4, 6, 0, 0, tzinfo=dt.UTC), due)  # 08:00 in Shanghai
    assert r.filed_late(dt.datetime(2011, 4, 6, 0, 1, tzinfo=dt.UTC), due)
    assert r.filed_late(None, due)


def test_months():
    assert r.add_months(dt.date(2011, 11, 1), 3) == dt.date(2012, 2, 1)
    assert r.add_months(dt.date(2011, 1, 1), -1) == dt.date(2010, 12, 1)
    assert r.parse_month("2011-04") == APRIL
    with pytest.raises(ValueError):
        r.parse_month("April")


# --- The scheme as data --------------------------------------------------------------------------------------


def test_tables_read_from_text_and_back():
    assert r.parse_penalties("2: 800, 300\n1：500") == {2: (800, 300), 1: (500,)}
    steps = r.parse_reward_steps("2: 7950=300, 20000=500, 50000=1000\n1: 7950=200，20000=400, 50000=700")
    assert steps == r.SEED.reward_steps
    assert r.parse_penalties(r.format_penalties(r.SEED.penalties)) == r.SEED.penalties
    assert r.parse_reward_steps(r.format_reward_steps(r.SEED.reward_steps)) == r.SEED.reward_steps
    with pytest.raises(r.SchemeError):
        r.parse_reward_steps("2: 7950-300")


@pytest.mark.parametrize(
    "change",
    [
        {"penalties": {2: (800,), 1: (500,)}},  # one penalty missing
        {"reward_steps": {2: ((20000, 500), (7950, 300)), 1: ((7950, 200),)}},  # not ascending
        {"double_floor": 5000},
        {"activity_min_active": 4},
        {"default_threshold": 3},
    ],
)
def test_an_unusable_scheme_is_refused(change):
    with pytest.raises(r.SchemeError):
        r.check_scheme(replace(r.SEED, **change))


def test_the_seed_scheme_is_usable_and_holds_the_sources_numbers():
    r.check_scheme(r.SEED)
    s = r.SEED
    assert (s.valid_floor, s.double_floor, s.director_short, s.director_over) == (7950, 50000, 300, 300)
    assert (s.fraud_person, s.fraud_director, s.min_days_on_staff, s.probation_factor) == (
        3000,
        1000,
        21,
        Decimal("0.5"),
    )
    assert (s.activity_window, s.activity_min_active) == (3, 2)


# --- Property: a statement's total is the sum of its lines ------------------------------------------------------

payments = st.decimals(min_value=0, max_value=200000, places=2, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(
    paid=st.lists(st.tuples(st.integers(0, 3), payments, st.integers(1, 28), st.booleans()), max_size=14),
    thresholds=st.lists(st.sampled_from([1, 2]), min_size=4, max_size=4),
    pays=st.lists(st.integers(0, 2000), min_size=4, max_size=4),
    probation=st.lists(st.booleans(), min_size=4, max_size=4),
    management=st.integers(0, 5000),
    wages=st.integers(0, 3000),
    fund=st.integers(0, 3000),
    target=st.one_of(st.none(), st.integers(0, 8)),
    backlog=st.integers(0, 5),
)
def test_a_statements_total_is_the_sum_of_its_lines(
    paid, thresholds, pays, probation, management, wages, fund, target, backlog
):
    people = [manager(i, thresholds[i], pays[i], on_probation=probation[i]) for i in range(4)]
    people.append(director(target=target))
    customers = [
        cust(100 + n, amount, developer=dev, order=day, faked=faked and n % 3 == 0)
        for n, (dev, amount, day, faked) in enumerate(paid)
    ]
    settle = {0: (r.Line(r.ACTIVITY, -250, "activity", {"window": 3, "min_active": 2, "active": 1}),)}
    inputs = {
        "management_fund": management,
        "efficiency_wages": wages,
        "fund_before": fund,
        "backlog_in": {90: backlog},
    }
    result = month(people, customers, settlements=settle, **inputs)
    for statement in result.statements:
        assert statement.total == sum(line.amount for line in statement.lines)
    f = result.funding
    paid_rewards = sum(x.amount for s in result.statements for x in s.lines if x.kind in r.REWARD_KINDS)
    # Every earned reward is paid: the sources plus the shortfall cover it exactly.
    assert paid_rewards == f.from_penalties + f.from_fund + f.from_management + f.from_wages + f.shortfall
    assert f.from_management <= management and f.from_wages <= wages and f.held_back == 0
    assert f.fund_after >= 0
    # Reproducible: the same inputs give the same statements.
    assert month(people, customers, settlements=settle, **inputs).statements == result.statements


def test_a_last_day_of_probation_decides_over_the_flag_month_by_month():
    apr, may = dt.date(2026, 4, 1), dt.date(2026, 5, 1)
    assert r.on_probation_in(apr, flag=False, until=dt.date(2026, 4, 10)) is True
    assert r.on_probation_in(may, flag=True, until=dt.date(2026, 4, 30)) is False
    assert r.on_probation_in(may, flag=False, until=dt.date(2026, 5, 1)) is True  # its first day counts
    assert r.on_probation_in(may, flag=True, until=None) is True
    assert r.on_probation_in(may, flag=False, until=None) is False
