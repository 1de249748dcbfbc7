"""The activity report: effective calls and judgment accuracy over time, per person."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from yixiang.accounts.models import Role, User
from yixiang.replica import replica_reads
from yixiang.reports import rules
from yixiang.reports.conf import conf
from yixiang.reports.selectors import ReportFilters, selected_staff

# --- Activity over time: effective calls and judgment accuracy ------------------------------------


@dataclass
class ActivityPoint:
    start: dt.date
    end: dt.date
    follow_ups: int = 0
    effective: int = 0
    hot_judgments: int = 0
    hot_right: int = 0
    hot_pending: int = 0
    hot_accuracy: float | None = None
    judgments: int = 0
    reversed: int = 0
    reversal_share: float | None = None


@dataclass
class ActivityRow:
    user_id: int
    name: str
    team: str
    points: list[ActivityPoint]

    @property
    def follow_ups(self) -> int:
        return sum(p.follow_ups for p in self.points)

    @property
    def effective(self) -> int:
        return sum(p.effective for p in self.points)


@dataclass
class ActivityReport:
    periods: list[tuple[dt.date, dt.date]]
    rows: list[ActivityRow]
    unit: str


@replica_reads()
def activity(*, user: User, f: ReportFilters, now: dt.datetime | None = None) -> ActivityReport:
    """Follow-ups, effective calls and judgment accuracy per rep, per week or month of the period:
    the team review (yixiang.pipeline.selectors.team_review) run once per week or month."""
    from yixiang.pipeline.selectors import team_review

    staff = selected_staff(user, f)
    wanted = {u.pk: u for u in staff}
    starts = rules.buckets(f.date_from, f.date_to, f.unit)[-conf("REPORT_MAX_PERIODS") :]
    periods = []
    for i, b in enumerate(starts):
        nxt = starts[i + 1] if i + 1 < len(starts) else f.date_to + dt.timedelta(days=1)
        periods.append((max(b, f.date_from), min(nxt - dt.timedelta(days=1), f.date_to)))
    rows = {
        u.pk: ActivityRow(u.pk, u.label, u.team.name if u.team_id else "", [])
        for u in staff
        if u.role == Role.REP or u.pk == (f.rep or 0)
    }
    for first, last in periods:
        for m in team_review(user=user, date_from=first, date_to=last, now=now):
            if m.user_id not in rows or m.user_id not in wanted:
                continue
            rows[m.user_id].points.append(
                ActivityPoint(
                    start=first,
                    end=last,
                    follow_ups=m.follow_ups,
                    effective=m.effective,
                    hot_judgments=m.hot_judgments,
                    hot_right=m.hot_right,
                    hot_pending=m.hot_pending,
                    hot_accuracy=m.hot_accuracy,
                    judgments=m.judgments,
                    reversed=m.reversed,
                    reversal_share=m.reversal_share,
                )
            )
    return ActivityReport(periods=periods, rows=list(rows.values()), unit=f.unit)
