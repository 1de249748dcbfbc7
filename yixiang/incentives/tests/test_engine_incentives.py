"""The month computed from the database: versions in force, filing, carry-over, activity, faked
customers, the fund across months, reproducibility, freezing and corrections."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from yixiang.accounts.models import Role, User
from yixiang.aftercare.models import Payment
from yixiang.errors import Conflict, DomainError, ValidationFailed
from yixiang.incentives import rules, selectors, services
from yixiang.incentives.engine import Engine, NoScheme
from yixiang.incentives.models import MonthClose, SchemeVersion, Statement
from yixiang.incentives.tests.factories import assess, developed, ship

SH = ZoneInfo("Asia/Shanghai")
MAR, APR, MAY, JUN, JUL = (dt.date(2011, m, 1) for m in (3, 4, 5, 6, 7))


def result(month: dt.date) -> rules.MonthResult:
    return Engine().result(month)


def statement(month: dt.date, user: User) -> rules.Statement:
    return result(month).by_user()[user.pk]


def lines(month: dt.date, user: User) -> list[tuple[str, int, int | None]]:
    return [(x.kind, x.amount, x.customer_id) for x in statement(month, user).lines]


# --- Versions ------------------------------------------------------------------------------------------


def test_the_data_migration_ships_the_sources_scheme(seeded):
    source, default = list(seeded)
    assert (source.valid_from, source.valid_to) == (dt.date(2011, 3, 1), dt.date(2011, 12, 31))
    assert default.valid_from == dt.date(2012, 1, 1) and default.valid_to is None
    for v in (source, default):
        assert v.penalties == {"2": [800, 300], "1": [500]}
        assert v.reward_steps == {
            "2": [[7950, 300], [20000, 500], [50000, 1000]],
            "1": [[7950, 200], [20000, 400], [50000, 700]],
        }
        assert (v.valid_floor, v.double_floor, v.min_days_on_staff, v.fraud_person, v.fraud_director) == (
            7950, 50000, 21, 3000, 1000,
        )  # fmt: skip


def test_a_month_is_computed_with_the_version_in_force_on_its_first_day(inc):
    SchemeVersion.objects.filter(valid_from=dt.date(2012, 1, 1)).update(valid_floor=10000)
    dec, jan = dt.date(2011, 12, 1), dt.date(2012, 1, 1)
    for m in (dec, jan):
        assess(inc.rep, m, 1)
        developed(inc, inc.rep, 9000, m.replace(day=3))
    assert statement(dec, inc.rep).total == 0  # 9,000 ≥ 7,950: threshold 1 met
    assert statement(jan, inc.rep).total == -500  # 9,000 < 10,000 under the 2012 version
    # A version starting mid-month does not apply to that month.
    SchemeVersion.objects.filter(valid_from=dt.date(2012, 1, 1)).update(valid_from=dt.date(2012, 1, 2))
    SchemeVersion.objects.filter(valid_to=dt.date(2011, 12, 31)).update(valid_to=dt.date(2012, 1, 1))
    assert statement(jan, inc.rep).total == 0


def test_without_a_version_in_force_the_month_is_refused(inc):
    with pytest.raises(NoScheme):
        Engine().result(dt.date(2011, 1, 1))


# --- Filing ------------------------------------------------------------------------------------------------


def test_a_target_filed_after_the_6th_at_0800_shanghai_is_flagged(inc):
    assess(inc.rep, APR, filed_at=dt.datetime(2011, 4, 6, 7, 59, tzinfo=SH))
    assess(inc.teammate, APR, filed_at=dt.datetime(2011, 4, 6, 8, 1, tzinfo=SH))
    assert statement(APR, inc.rep).target_late is False
    assert statement(APR, inc.teammate).target_late is True
    # A director who filed nothing is flagged too, and is assessed against the managers' sum.
    st = statement(APR, inc.director)
    assert st.target_late is True and st.threshold == 4


def test_filing_records_the_time_and_refiling_a_change_moves_it(inc):
    row = services.assessment_save(actor=inc.director, user_id=inc.rep.pk, month=APR, threshold=2, performance_pay=900)
    first = row.target_filed_at
    assert first is not None
    row = services.assessment_save(actor=inc.director, user_id=inc.rep.pk, month=APR, threshold=2, performance_pay=1000)
    assert row.target_filed_at == first  # pay changed, not the target
    row = services.assessment_save(actor=inc.director, user_id=inc.rep.pk, month=APR, threshold=1, performance_pay=1000)
    assert row.target_filed_at > first


# --- Carry-over ------------------------------------------------------------------------------------------


def test_unmet_region_targets_carry_into_a_zero_target_month(inc):
    for m in (MAR, APR):
        assess(inc.rep, m, 2)
        assess(inc.teammate, m, 2)
    assess(inc.director, MAR, None, target=3)
    assess(inc.director, APR, None, target=0)
    developed(inc, inc.rep, 8000, dt.date(2011, 3, 5))
    march = statement(MAR, inc.director)
    assert (march.threshold, march.valid_customers, march.total, march.backlog_out) == (3, 1, -600, 2)
    april = statement(APR, inc.director)
    assert (april.approved_target, april.threshold, april.backlog_in) == (2, 2, 2)
    assert april.total == -600


# --- Activity re-assessment -----------------------------------------------------------------------------


def _april_with_a_rewarded_customer(inc):
    assess(inc.rep, APR, 2)
    a = developed(inc, inc.rep, 8000, dt.date(2011, 4, 2))
    b = developed(inc, inc.rep, 8000, dt.date(2011, 4, 3))
    c = developed(inc, inc.rep, 25000, dt.date(2011, 4, 4))
    for d in (a, b):
        ship(d, dt.date(2011, 4, 20), dt.date(2011, 6, 2))
    return c


def test_a_customer_active_in_fewer_than_2_of_its_first_3_months_is_undone_in_month_4(inc):
    c = _april_with_a_rewarded_customer(inc)
    ship(c, dt.date(2011, 4, 10), dt.date(2011, 4, 28), dt.date(2011, 7, 1))  # April only (July is too late)
    assert statement(APR, inc.rep).total == 500
    assert inc.rep.pk not in result(JUN).by_user()
    july = lines(JUL, inc.rep)
    assert july == [("activity_adjustment", -500, c.customer_id)]
    assert statement(JUL, inc.rep).lines[0].refers_to == APR
    # The director's region count drops by one too (4 of 2 → 3 of 2: −300 of the +600).
    assert ("activity_adjustment", -300, c.customer_id) in lines(JUL, inc.director)


def test_a_customer_active_in_2_months_keeps_what_it_earned(inc):
    c = _april_with_a_rewarded_customer(inc)
    ship(c, dt.date(2011, 5, 10), dt.date(2011, 6, 28))
    assert inc.rep.pk not in result(JUL).by_user()


def test_the_re_assessment_reads_the_closed_month_as_issued(inc):
    c = _april_with_a_rewarded_customer(inc)
    for m in (APR, MAY, JUN):
        services.month_close(actor=inc.admin, month=m)
    # A payment recorded after closing would change April; the activity line still undoes the 500 paid.
    Payment.objects.create(customer=c.customer, paid_on=dt.date(2011, 4, 30), amount=Decimal(40000))
    july = [x for x in statement(JUL, inc.rep).lines if x.kind == "activity_adjustment"]
    assert [(x.customer_id, x.amount) for x in july] == [(c.customer_id, -500)]


# --- Faked customers -----------------------------------------------------------------------------------


def test_a_faked_customer_is_fined_in_the_month_found_and_its_closed_reward_corrected(inc):
    c = _april_with_a_rewarded_customer(inc)
    services.month_close(actor=inc.admin, month=APR)
    services.developed_customer_mark_faked(actor=inc.admin, developed_id=c.pk, found_month=MAY, note="no such order")
    may = lines(MAY, inc.rep)
    assert ("fraud_penalty", -3000, c.customer_id) in may
    assert ("correction", -500, None) in may  # April paid 500 for a customer that never was
    assert ("fraud_penalty", -1000, c.customer_id) in lines(MAY, inc.director)
    assert inc.south_director.pk not in result(MAY).by_user()
    # April itself stays as it was closed.
    assert statement(APR, inc.rep).total == 500


def test_only_an_administrator_marks_a_customer_faked(inc):
    c = _april_with_a_rewarded_customer(inc)
    with pytest.raises(DomainError) as exc:
        services.developed_customer_mark_faked(actor=inc.director, developed_id=c.pk, found_month=MAY)
    assert exc.value.code == "forbidden"


# --- The penalty fund across months ---------------------------------------------------------------------


def test_penalties_left_over_in_one_month_fund_the_next_months_rewards(inc):
    assess(inc.teammate, MAR, 2, pay=300)  # nothing developed: −300 (capped by pay)
    assess(inc.rep, APR, 1)
    developed(inc, inc.rep, 8000, dt.date(2011, 4, 2))
    developed(inc, inc.rep, 50000, dt.date(2011, 4, 3))  # fills nothing more: +700 beyond threshold 1
    march = result(MAR)
    assert statement(MAR, inc.director).total == -600  # region threshold 2, nothing developed
    assert (march.funding.penalties, march.funding.fund_after) == (900, 900)
    april = statement(APR, inc.rep)
    assert [(x.amount, x.funding) for x in april.lines if x.kind == "reward"] == [(700, "penalty_fund")]
    # The director's +600 (3 of 1) finds 200 left in the fund and no other money entered: the 400
    # beyond is paid all the same, and the month reports it as its shortfall.
    director_lines = statement(APR, inc.director).lines
    assert [(x.amount, x.funding) for x in director_lines] == [(200, "penalty_fund"), (400, "not_covered")]
    assert statement(APR, inc.director).total == 600
    assert (result(APR).funding.fund_after, result(APR).funding.shortfall) == (0, 400)


# --- Reproducibility, freezing, corrections -------------------------------------------------------------------


def _statements_as_data(month):
    return [
        (s.username, s.total, [(x.kind, x.amount, x.customer_id, x.funding) for x in s.lines])
        for s in result(month).statements
    ]


def test_computing_a_month_twice_gives_the_same_statements(inc):
    _april_with_a_rewarded_customer(inc)
    assess(inc.teammate, APR, 1, pay=100, probation=True)
    assert _statements_as_data(APR) == _statements_as_data(APR)
    assert result(APR).statements == result(APR).statements


def test_a_closed_month_is_frozen_and_later_changes_become_corrections_in_the_next_month(inc):
    c = _april_with_a_rewarded_customer(inc)
    before = _statements_as_data(APR)
    close = services.month_close(actor=inc.admin, month=APR)
    assert Statement.objects.filter(month=APR).count() == len(before)
    assert _statements_as_data(APR) == before
    assert close.fund_after == result(APR).funding.fund_after
    # A later payment lifts customer c to the 50,000 step: April stays, May corrects (+500 rep, +300 director).
    Payment.objects.create(customer=c.customer, paid_on=dt.date(2011, 4, 29), amount=Decimal(30000))
    assert _statements_as_data(APR) == before
    assert ("correction", 500, None) in lines(MAY, inc.rep)
    assert ("correction", 300, None) in lines(MAY, inc.director)
    correction = [x for x in statement(MAY, inc.rep).lines if x.kind == "correction"][0]
    assert correction.refers_to == APR
    # Once May is closed with the correction, June does not repeat it.
    services.month_close(actor=inc.admin, month=MAY)
    assert inc.rep.pk not in result(JUN).by_user()


def test_a_move_or_a_departure_after_closing_is_not_a_correction(inc):
    _april_with_a_rewarded_customer(inc)
    assess(inc.teammate, APR, 2)  # the north: 3 of 4, −300 for the director
    services.month_close(actor=inc.admin, month=APR)
    assert statement(APR, inc.director).total == -300
    inc.rep.team = inc.s1  # moved to the south after April
    inc.rep.region = inc.south
    inc.rep.save()
    User.objects.filter(pk=inc.director.pk).update(is_active=False)  # the north's director left
    may = result(MAY)
    assert not [x for s in may.statements for x in s.lines if x.kind == "correction"]
    assert inc.director.pk not in may.by_user()  # and is not assessed after leaving


def test_months_close_in_order_once_over_and_only_once(inc):
    _april_with_a_rewarded_customer(inc)
    services.month_close(actor=inc.admin, month=APR)
    with pytest.raises(Conflict):
        services.month_close(actor=inc.admin, month=APR)
    with pytest.raises(ValidationFailed):
        services.month_close(actor=inc.admin, month=JUN)
    with pytest.raises(ValidationFailed):
        services.month_close(actor=inc.admin, month=rules.month_start(timezone.localdate()))
    with pytest.raises(DomainError) as exc:
        services.month_close(actor=inc.rep, month=MAY)
    assert exc.value.code == "forbidden"
    assert list(MonthClose.objects.values_list("month", flat=True)) == [APR]


# --- Inputs: developed customers and assessments --------------------------------------------------------------


def test_developed_customers_are_derived_from_first_payments(inc):
    new = inc.customer(inc.rep, "新客户")
    Payment.objects.create(customer=new, paid_on=dt.date(2011, 4, 12), amount=Decimal(3000))
    Payment.objects.create(customer=new, paid_on=dt.date(2011, 4, 20), amount=Decimal(6000))
    old = inc.customer(inc.teammate, "老客户")
    Payment.objects.create(customer=old, paid_on=dt.date(2011, 3, 30), amount=Decimal(9000))
    Payment.objects.create(customer=old, paid_on=dt.date(2011, 4, 2), amount=Decimal(9000))
    south = inc.customer(inc.outsider, "南方客户")
    Payment.objects.create(customer=south, paid_on=dt.date(2011, 4, 5), amount=Decimal(9000))
    assert services.developed_customers_derive(actor=inc.director, month=APR) == 1
    row = new.development
    assert (row.developer, row.month, row.reported_on) == (inc.rep, APR, dt.date(2011, 4, 12))
    assert services.developed_customers_derive(actor=inc.director, month=APR) == 0  # idempotent
    assess(inc.rep, APR, 1)
    assert statement(APR, inc.rep).valid_customers == 1  # 3,000 + 6,000 in the first month


def test_a_developed_customer_is_recorded_by_hand_within_scope(inc):
    mine = inc.customer(inc.rep, "手工客户")
    Payment.objects.create(customer=mine, paid_on=dt.date(2011, 4, 9), amount=Decimal(9000))
    row = services.developed_customer_record(
        actor=inc.director, customer_id=mine.pk, developer_id=inc.rep.pk, month=APR
    )
    assert row.reported_on == dt.date(2011, 4, 9)
    with pytest.raises(Conflict):
        services.developed_customer_record(actor=inc.director, customer_id=mine.pk, developer_id=inc.rep.pk, month=APR)
    south = inc.customer(inc.outsider, "别区客户")
    from yixiang.errors import NotFound

    with pytest.raises(NotFound):
        services.developed_customer_record(actor=inc.director, customer_id=south.pk, developer_id=inc.rep.pk, month=APR)
    other = inc.customer(inc.rep, "另一个")
    with pytest.raises(NotFound):
        services.developed_customer_record(
            actor=inc.director, customer_id=other.pk, developer_id=inc.outsider.pk, month=APR
        )
    with pytest.raises(ValidationFailed):
        services.developed_customer_record(
            actor=inc.director,
            customer_id=other.pk,
            developer_id=inc.rep.pk,
            month=APR,
            reported_on=dt.date(2011, 5, 1),
        )


def test_assessment_rows_are_kept_by_directors_for_their_region_with_the_schemes_thresholds(inc):
    from yixiang.errors import NotFound

    with pytest.raises(DomainError) as exc:
        services.assessment_save(actor=inc.rep, user_id=inc.rep.pk, month=APR, threshold=2, performance_pay=0)
    assert exc.value.code == "forbidden"
    with pytest.raises(NotFound):
        services.assessment_save(actor=inc.director, user_id=inc.outsider.pk, month=APR, threshold=2, performance_pay=0)
    with pytest.raises(ValidationFailed):
        services.assessment_save(actor=inc.director, user_id=inc.rep.pk, month=APR, threshold=3, performance_pay=0)
    row = services.assessment_save(
        actor=inc.director, user_id=inc.rep.pk, month=dt.date(2011, 4, 17), threshold=None, performance_pay=0
    )
    assert (row.month, row.threshold) == (APR, 2)  # the version's default threshold
    row = services.assessment_save(
        actor=inc.director, user_id=inc.director.pk, month=APR, threshold=2, performance_pay=0, target=3
    )
    assert row.threshold is None and row.target == 3  # a director has a target, not a threshold


def test_copying_a_month_forward_keeps_thresholds_and_pay(inc):
    assess(inc.rep, MAR, 1, pay=700)
    assess(inc.outsider, MAR, 2)
    assert services.assessments_copy_forward(actor=inc.director, month=APR) == 1
    row = inc.rep.incentive_assessments.get(month=APR)
    assert (row.threshold, row.performance_pay, row.target_filed_at) == (1, 700, None)


def test_scheme_versions_may_not_overlap_and_only_admins_edit_them(inc, seeded):
    source = seeded.first()
    data = {f: getattr(source, f) for f in services.SCHEME_FIELDS}
    with pytest.raises(ValidationFailed) as exc:
        services.scheme_version_save(actor=inc.admin, data={**data, "name": "x"})
    assert "valid_from" in exc.value.errors
    with pytest.raises(ValidationFailed) as exc:
        services.scheme_version_save(actor=inc.admin, data={**data, "penalties": {"2": [800]}}, version=source)
    assert "penalties" in exc.value.errors
    with pytest.raises(DomainError) as exc:
        services.scheme_version_save(actor=inc.director, data=data, version=source)
    assert exc.value.code == "forbidden"
    saved = services.scheme_version_save(actor=inc.admin, data={**data, "fraud_person": 2500}, version=source)
    assert saved.fraud_person == 2500


# --- Scale: the month loads its inputs with a fixed number of queries ----------------------------------------------


def _managers(inc, n: int, month: dt.date) -> None:
    for i in range(n):
        user = User.objects.create(
            username=f"m{n}_{i}", role=Role.REP, team=inc.n1, region=inc.north, hire_date=dt.date(2010, 1, 1)
        )
        assess(user, month, 1 + i % 2)
        developed(inc, user, 8000 + 1000 * i, month.replace(day=1 + i % 20))


def _queries_for(inc, month) -> int:
    with CaptureQueriesContext(connection) as ctx:
        selectors.month_statements(fetched_by=inc.admin, month=month)
    return len(ctx.captured_queries)


def test_the_number_of_queries_does_not_grow_with_the_number_of_managers(inc):
    _managers(inc, 3, APR)
    few = _queries_for(inc, APR)
    _managers(inc, 12, MAY)
    many = _queries_for(inc, MAY)
    assert len(result(MAY).statements) >= 12
    assert many <= few + 8  # May also reads April (the fund chain), never per manager
    assert many < 40


# --- Probation from the staff record ------------------------------------------------------------------


def test_a_last_day_of_probation_on_the_staff_record_decides_month_by_month(inc):
    """Director without a month row (the engine reads the staff record), and a new month row."""
    for month in (APR, MAY):
        assess(inc.rep, month)  # the region has a manager, so its director has a statement
    User.objects.filter(pk=inc.director.pk).update(on_probation=False, probation_until=dt.date(2011, 4, 10))
    assert statement(APR, inc.director).on_probation is True  # still on probation on April 1st
    assert statement(MAY, inc.director).on_probation is False
    User.objects.filter(pk=inc.director.pk).update(on_probation=True, probation_until=dt.date(2011, 3, 31))
    assert statement(APR, inc.director).on_probation is False  # the date wins over the flag
    User.objects.filter(pk=inc.director.pk).update(probation_until=None)
    assert statement(APR, inc.director).on_probation is True  # no date: the flag, as before

    mate = inc.teammate
    User.objects.filter(pk=mate.pk).update(on_probation=False, probation_until=dt.date(2011, 4, 10))
    save = services.assessment_save
    assert save(actor=inc.director, user_id=mate.pk, month=APR, threshold=2, performance_pay=900).on_probation
    assert not save(actor=inc.director, user_id=mate.pk, month=MAY, threshold=2, performance_pay=900).on_probation
    # A month's own row, once filed, is what counts (the manager may still override it).
    row = save(actor=inc.director, user_id=mate.pk, month=MAY, threshold=2, performance_pay=900, on_probation=True)
    assert row.on_probation and statement(MAY, mate).on_probation is True
