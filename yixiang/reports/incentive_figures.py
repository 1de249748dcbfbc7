"""The incentives report: monthly statement totals per person over the period."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from django.utils.translation import gettext as _

from yixiang.accounts.models import User
from yixiang.replica import replica_reads
from yixiang.reports import rules
from yixiang.reports.conf import conf
from yixiang.reports.selectors import ReportFilters, _region_of, selected_staff

# --- Incentives -------------------------------------------------------------------------------------


@dataclass
class PersonTotals:
    user_id: int
    name: str
    region: str
    totals: list[int]  # one per month, in yuan (signed)

    @property
    def total(self) -> int:
        return sum(self.totals)


@dataclass
class IncentivesReport:
    months: list[dt.date]
    missing_months: list[dt.date]  # no scheme version in force
    people: list[PersonTotals]
    regions: dict[str, list[int]]
    fund: list[dict[str, Any]] | None  # penalty fund per month: company-wide, administrators only


def month_starts(first: dt.date, last: dt.date, limit: int) -> list[dt.date]:
    return rules.buckets(first, last, "month")[-limit:]


@replica_reads()
def incentives(*, user: User, f: ReportFilters) -> IncentivesReport:
    """Monthly statement totals per person and region for the months of the period, read from the
    incentive app's statements (yixiang.incentives.selectors.month_statements), and the penalty fund."""
    from yixiang.incentives.engine import Engine, NoScheme
    from yixiang.incentives.selectors import month_statements

    staff = {u.pk: u for u in selected_staff(user, f)}
    months = month_starts(f.date_from, f.date_to, conf("REPORT_MAX_MONTHS"))
    engine = Engine()
    people: dict[int, PersonTotals] = {}
    regions: dict[str, list[int]] = {}
    fund: list[dict[str, Any]] = []
    missing: list[dt.date] = []
    shown: list[dt.date] = []
    for m in months:
        try:
            view = month_statements(fetched_by=user, month=m, engine=engine)
        except NoScheme:
            missing.append(m)
            continue
        i = len(shown)
        shown.append(m)
        for s in view.statements:
            u = staff.get(s.user_id)
            if u is None:
                continue
            region = _region_of(u)[1] or _("No region")
            person = people.setdefault(s.user_id, PersonTotals(s.user_id, s.name, region, []))
            person.totals += [0] * (i + 1 - len(person.totals))
            person.totals[i] += s.total
            row = regions.setdefault(region, [])
            row += [0] * (i + 1 - len(row))
            row[i] += s.total
        if view.funding is not None:
            fund.append({"month": m.isoformat(), "closed": view.closed, **asdict(view.funding)})
    for p in people.values():
        p.totals += [0] * (len(shown) - len(p.totals))
    for row in regions.values():
        row += [0] * (len(shown) - len(row))
    return IncentivesReport(
        months=shown,
        missing_months=missing,
        people=sorted(people.values(), key=lambda p: (p.region, -p.total, p.name)),
        regions=dict(sorted(regions.items())),
        fund=fund if user.is_admin_role else None,
    )
