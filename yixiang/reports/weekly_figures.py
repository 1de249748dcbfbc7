"""The weekly one-pager: the sections' figures for one week on one page."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yixiang.accounts.models import Role, User
from yixiang.pipeline import rules as pipeline_rules
from yixiang.replica import replica_reads
from yixiang.reports import rules
from yixiang.reports.aftersale_figures import aftercare_conf
from yixiang.reports.conf import conf
from yixiang.reports.selectors import FunnelReport, ReportFilters, _owned, _region_of, funnel, selected_staff

# --- The weekly one-pager -------------------------------------------------------------------------


@dataclass
class WeeklyReport:
    monday: dt.date
    sunday: dt.date
    subject: str
    funnel_start: FunnelReport
    funnel_end: FunnelReport
    members: list[Any]  # yixiang.pipeline.selectors.MemberReview, one per rep
    totals: dict[str, Any]
    payouts_due: list[Any]
    renewals_due: list[Any]
    care_done: int
    care_open: int

    @property
    def stage_rows(self) -> list[tuple[int, int, int, int]]:
        """(stage, count at the start of the week, count at its end, the change)."""
        start, end = self.funnel_start.total.counts, self.funnel_end.total.counts
        return [(s, start.get(s, 0), end.get(s, 0), end.get(s, 0) - start.get(s, 0)) for s in rules.STAGES]


@replica_reads()
def weekly(*, user: User, f: ReportFilters, day: dt.date, today: dt.date | None = None) -> WeeklyReport:
    """The week holding ``day`` for the selected rep or team: the funnel at its start and end, each
    member's follow-ups, judgments and signings, care done, and the payouts and renewals ahead."""
    from yixiang.aftercare.models import CareTask, Contract, Payout
    from yixiang.pipeline.selectors import team_review

    today = today or timezone.localdate()
    monday, sunday = rules.week_of(min(day, today))
    staff = selected_staff(user, f)
    ids = [u.pk for u in staff]
    last = min(sunday, today)
    week = ReportFilters(date_from=monday, date_to=sunday, rep=f.rep, team=f.team, region=f.region)
    start = funnel(user=user, f=replace(week, as_of=monday - dt.timedelta(days=1)), today=today)
    end = funnel(user=user, f=replace(week, as_of=sunday), today=today)
    reps = {u.pk for u in staff if u.role == Role.REP} or set(ids)
    members = [m for m in team_review(user=user, date_from=monday, date_to=last) if m.user_id in reps]
    totals = {
        key: sum(getattr(m, key) for m in members)
        for key in (
            "follow_ups",
            "effective",
            "rises",
            "drops",
            "signed",
            "hot_judgments",
            "hot_right",
            "judgments",
            "reversed",
        )
    }
    totals["hot_accuracy"] = pipeline_rules.share(totals["hot_right"], totals["hot_judgments"])
    owned = _owned(user, ids)
    ahead = sunday + dt.timedelta(days=7)
    payouts = list(
        Payout.objects.filter(
            contract__customer__in=owned,
            status__in=[Payout.Status.SCHEDULED, Payout.Status.LATE],
            due_date__lte=ahead,
        )
        .select_related("contract", "contract__customer")
        .order_by("due_date", "pk")[: conf("REPORT_LIST_LIMIT")]
    )
    renewals = list(
        Contract.objects.filter(
            customer__in=owned,
            status=Contract.Status.ACTIVE,
            end_date__lte=sunday + dt.timedelta(days=aftercare_conf("RENEWAL_NOTICE_DAYS")),
        )
        .select_related("customer")
        .order_by("end_date", "pk")[: conf("REPORT_LIST_LIMIT")]
    )
    care = CareTask.objects.filter(rep_id__in=ids, customer__in=owned).aggregate(
        done=Count("pk", filter=Q(done_at__gte=week.start, done_at__lt=week.end)),
        open=Count("pk", filter=Q(done_at__isnull=True, due_on__lte=last)),
    )
    if f.rep:
        subject = staff[0].label
    elif f.team:
        subject = staff[0].team.name if staff[0].team_id else ""
    elif f.region:
        subject = _region_of(staff[0])[1]
    else:
        subject = user.label if len(staff) == 1 else _("Everyone in my scope")
    return WeeklyReport(
        monday=monday,
        sunday=sunday,
        subject=subject,
        funnel_start=start,
        funnel_end=end,
        members=members,
        totals=totals,
        payouts_due=payouts,
        renewals_due=renewals,
        care_done=care["done"],
        care_open=care["open"],
    )
