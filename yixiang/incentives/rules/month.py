"""The month: every section applied to one month's input (fraud fines, item 8, included)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from yixiang.incentives.rules.base import (
    COLLECTED_KINDS,
    DIRECTOR,
    DIRECTOR_REWARD,
    FRAUD,
    MANAGER,
    REWARD,
    Line,
    MonthInput,
    MonthResult,
    NewCustomer,
    Person,
    Statement,
    _probation,
    _probation_params,
    check_scheme,
    counts_toward_director,
    customer_units,
    in_reported_order,
    money_text,
)
from yixiang.incentives.rules.directors import approved_target, assess_director, director_threshold, next_backlog
from yixiang.incentives.rules.funding import fund_rewards
from yixiang.incentives.rules.thresholds import assess_manager

# --- The month --------------------------------------------------------------------------------------


def _customer_snapshot(c: NewCustomer) -> dict[str, Any]:
    return {"id": c.customer_id, "name": c.name, "paid": money_text(c.paid), "position": c.position}


def compute_month(inp: MonthInput) -> MonthResult:
    """Every statement of the month, funded."""
    scheme = inp.scheme
    check_scheme(scheme)
    people = inp.people
    by_developer: dict[int, list[NewCustomer]] = defaultdict(list)
    region_units: dict[int | None, int] = defaultdict(int)
    region_customers: dict[int | None, list[list[int]]] = defaultdict(list)
    for c in in_reported_order(inp.customers):
        by_developer[c.developer_id].append(c)
        units = 0 if c.faked else customer_units(c.paid, scheme)
        if units:
            region_units[c.region_id] += units
            region_customers[c.region_id].append([c.customer_id, units])

    statements: dict[int, Statement] = {}

    def statement_for(person: Person) -> Statement:
        st = statements.get(person.user_id)
        if st is None:
            st = Statement(
                user_id=person.user_id,
                username=person.username,
                role=person.scheme_role,
                threshold=None,
                valid_customers=0,
                lines=[],
                on_probation=person.on_probation,
                performance_pay=person.performance_pay,
                target=person.target if person.has_row else None,
                target_late=person.target_late,
            )
            statements[person.user_id] = st
        return st

    # Managers: an assignment row, not a director, on staff long enough.
    managers_sum: dict[int | None, int] = defaultdict(int)
    for person in sorted(people.values(), key=lambda p: p.username):
        if not person.has_row or person.scheme_role != MANAGER or person.threshold is None:
            continue
        if person.days_on_staff < scheme.min_days_on_staff:
            continue
        own = by_developer.get(person.user_id, [])
        lines, reached = assess_manager(
            threshold=person.threshold,
            performance_pay=person.performance_pay or 0,
            on_probation=person.on_probation,
            customers=own,
            scheme=scheme,
        )
        st = statement_for(person)
        st.threshold = person.threshold
        st.valid_customers = reached
        st.lines.extend(lines)
        st.detail = {
            "customers": [
                {**_customer_snapshot(c), "units": customer_units(c.paid, scheme)}
                for c in own
                if not c.faked and customer_units(c.paid, scheme)
            ]
        }
        if counts_toward_director(person):
            managers_sum[person.region_id] += person.threshold

    # Directors: over the region.
    backlog_out: dict[int, int] = {}
    for person in sorted(people.values(), key=lambda p: p.username):
        if person.scheme_role != DIRECTOR or person.region_id is None:
            continue
        backlog = inp.backlog_in.get(person.user_id, 0)
        if person.days_on_staff < scheme.min_days_on_staff:
            backlog_out[person.user_id] = backlog
            continue
        filed = person.target if person.has_row else None
        approved = approved_target(filed=filed, backlog_in=backlog)
        threshold = director_threshold(managers_sum=managers_sum[person.region_id], approved_target=approved)
        count = region_units[person.region_id]
        backlog_out[person.user_id] = next_backlog(filed=filed, backlog_in=backlog, threshold=threshold, count=count)
        if threshold <= 0:
            continue  # not incentivised this month (item 6)
        st = statement_for(person)
        st.threshold = threshold
        st.valid_customers = count
        st.approved_target = approved
        st.backlog_in = backlog
        st.backlog_out = backlog_out[person.user_id]
        st.lines.extend(
            assess_director(threshold=threshold, count=count, on_probation=person.on_probation, scheme=scheme)
        )
        st.detail = {
            "managers_sum": managers_sum[person.region_id],
            "region_customers": region_customers[person.region_id],
        }

    # Faked customers found this month.
    for find in sorted(inp.faked_found, key=lambda f: f.customer_id):
        developer = people.get(find.developer_id)
        params = {"developed_month": find.developed_month.isoformat()}
        if developer is not None:
            fine = _probation(scheme.fraud_person, developer.on_probation, scheme)
            statement_for(developer).lines.append(
                Line(
                    FRAUD,
                    -fine,
                    "fraud_person",
                    {**params, **_probation_params(developer.on_probation, scheme)},
                    find.customer_id,
                    find.name,
                )
            )
        for person in sorted(people.values(), key=lambda p: p.username):
            if (
                person.scheme_role == DIRECTOR
                and person.region_id is not None
                and person.region_id == find.region_id
                and person.user_id != find.developer_id
                and person.days_on_staff >= scheme.min_days_on_staff
            ):
                fine = _probation(scheme.fraud_director, person.on_probation, scheme)
                statement_for(person).lines.append(
                    Line(
                        FRAUD,
                        -fine,
                        "fraud_director",
                        {**params, **_probation_params(person.on_probation, scheme)},
                        find.customer_id,
                        find.name,
                    )
                )

    # Settlements of earlier months (activity re-assessments, corrections).
    for user_id in sorted(inp.settlements):
        person = people.get(user_id)
        if person is None or not inp.settlements[user_id]:
            continue
        statement_for(person).lines.extend(inp.settlements[user_id])

    # Funding: customers' rewards in reported order, then the directors'.
    customer_order = {c.customer_id: (c.position, c.customer_id) for c in inp.customers}
    claims: list[tuple[tuple, Statement, int]] = []
    penalties = 0
    for st in statements.values():
        for i, line in enumerate(st.lines):
            if line.kind in COLLECTED_KINDS:
                penalties -= line.amount
            elif line.kind == REWARD:
                when = customer_order.get(line.customer_id or 0, (0, 0))
                claims.append(((0, *when, st.username, i), st, i))
            elif line.kind == DIRECTOR_REWARD:
                claims.append(((1, 0, 0, st.username, i), st, i))
    claims.sort(key=lambda claim: claim[0])
    pieces, funding = fund_rewards(
        [st.lines[i] for _, st, i in claims],
        penalties=penalties,
        fund_before=inp.fund_before,
        management=inp.management_fund,
        wages=inp.efficiency_wages,
    )
    replaced: dict[int, dict[int, list[Line]]] = defaultdict(dict)
    for (_, st, i), paid in zip(claims, pieces, strict=True):
        replaced[st.user_id][i] = paid
    for st in statements.values():
        if st.user_id in replaced:
            swap = replaced[st.user_id]
            st.lines = [piece for i, line in enumerate(st.lines) for piece in swap.get(i, [line])]

    return MonthResult(
        month=inp.month,
        statements=sorted(statements.values(), key=lambda s: (s.role != DIRECTOR, s.username)),
        funding=funding,
        backlog_out=backlog_out,
    )
