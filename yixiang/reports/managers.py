"""Reads behind the managers' home pages (issue 14): "who is behind?" for a lead, the region by team
and the month's incentive position for a director. Every figure is built from the team review
(yixiang.pipeline.selectors.team_review) so the home page, the review and the weekly one-pager show
the same numbers; each comes with the customer-list query that lists the customers behind it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from yixiang.accounts.models import Role, User
from yixiang.accounts.scoping import staff_in_scope
from yixiang.customers.models import Customer
from yixiang.pipeline import rules as pipeline_rules
from yixiang.pipeline.drilldown import customers_url, member_links, team_overdue  # noqa: F401 (re-exported)
from yixiang.reports import rules


@dataclass
class RepRow:
    user_id: int
    name: str
    team: str
    overdue: int
    due_today: int
    effective: int
    follow_ups: int
    moves: int  # rises, drops and signings in the period
    hot_right: int
    hot_decided: int
    hot_pending: int
    hot_accuracy: float | None
    links: dict[str, str]
    # Rises the evidence did not carry, of all rises: opens the rep's mismatch list.
    mismatches: int = 0
    rises: int = 0


@dataclass
class TeamHome:
    date_from: dt.date
    date_to: dt.date
    rows: list[RepRow]  # most overdue first

    @property
    def overdue(self) -> int:
        return sum(r.overdue for r in self.rows)

    @property
    def due_today(self) -> int:
        return sum(r.due_today for r in self.rows)

    @property
    def behind(self) -> RepRow | None:
        """The rep with the most overdue customers, if anyone is behind."""
        return self.rows[0] if self.rows and self.rows[0].overdue else None


def _due_today(ids: list[int], today: dt.date) -> dict[int, int]:
    return dict(
        Customer.objects.filter(owner_id__in=ids, deleted_at__isnull=True, next_due_on=today)
        .order_by()
        .values("owner_id")
        .annotate(n=Count("pk"))
        .values_list("owner_id", "n")
    )


def team_home(*, user: User, now: dt.datetime | None = None) -> TeamHome:
    """Per rep in the user's scope, this week so far: overdue and due-today customers now, effective
    calls, stage moves and stage-3/4 judgment accuracy — the team review's figures."""
    from yixiang.pipeline.selectors import team_review

    now = now or timezone.now()
    today = timezone.localtime(now).date()
    monday, _sunday = rules.week_of(today)
    reps = set(staff_in_scope(user).filter(role=Role.REP).values_list("pk", flat=True))
    members = [m for m in team_review(user=user, date_from=monday, date_to=today, now=now) if m.user_id in reps]
    today_counts = _due_today([m.user_id for m in members], today)
    rows = [
        RepRow(
            user_id=m.user_id,
            name=m.name,
            team=m.team,
            overdue=m.overdue,
            due_today=today_counts.get(m.user_id, 0),
            effective=m.effective,
            follow_ups=m.follow_ups,
            moves=m.rises + m.drops + m.signed,
            hot_right=m.hot_right,
            hot_decided=m.hot_judgments - m.hot_pending,
            hot_pending=m.hot_pending,
            hot_accuracy=m.hot_accuracy,
            links=member_links(m.user_id, monday, today),
            mismatches=m.mismatches,
            rises=m.rises,
        )
        for m in members
    ]
    rows.sort(key=lambda r: (-r.overdue, -r.due_today, r.name))
    return TeamHome(date_from=monday, date_to=today, rows=rows)


@dataclass
class TeamFigures:
    team_id: int | None
    name: str
    reps: int = 0
    overdue: int = 0
    due_today: int = 0
    effective: int = 0
    moves: int = 0
    hot_right: int = 0
    hot_decided: int = 0
    rows: list[RepRow] = field(default_factory=list)

    @property
    def hot_accuracy(self) -> float | None:
        return pipeline_rules.share(self.hot_right, self.hot_decided)

    @property
    def report_url(self) -> str:
        return f"{reverse('reports')}?team={self.team_id}" if self.team_id else reverse("reports")


@dataclass
class Position:
    user_id: int
    name: str
    role_label: str
    total: int
    valid_customers: int
    threshold: int | None
    anchor: str  # the statement's id on the statements page


@dataclass
class RegionHome:
    week: TeamHome
    teams: list[TeamFigures]
    month: dt.date
    positions: list[Position]
    no_scheme: str = ""


def region_home(*, user: User, now: dt.datetime | None = None) -> RegionHome:
    """A director's region by team (this week's review figures summed) and the month's incentive
    position per manager, read from the statements selector the statements page uses."""
    from yixiang.incentives.engine import NoScheme
    from yixiang.incentives.selectors import month_statements

    now = now or timezone.now()
    week = team_home(user=user, now=now)
    team_of = dict(staff_in_scope(user).filter(role=Role.REP).values_list("pk", "team_id"))
    names = dict(staff_in_scope(user).filter(team__isnull=False).values_list("team_id", "team__name"))
    teams: dict[int | None, TeamFigures] = {}
    for r in week.rows:
        tid = team_of.get(r.user_id)
        t = teams.setdefault(tid, TeamFigures(team_id=tid, name=names.get(tid, "") if tid else "—"))
        t.reps += 1
        t.overdue += r.overdue
        t.due_today += r.due_today
        t.effective += r.effective
        t.moves += r.moves
        t.hot_right += r.hot_right
        t.hot_decided += r.hot_decided
        t.rows.append(r)
    month = timezone.localtime(now).date().replace(day=1)
    positions: list[Position] = []
    no_scheme = ""
    try:
        view = month_statements(fetched_by=user, month=month)
    except NoScheme as exc:
        no_scheme = exc.message
    else:
        positions = [
            Position(
                user_id=s.user_id,
                name=s.name,
                role_label=s.role_label,
                total=s.total,
                valid_customers=s.valid_customers,
                threshold=s.threshold,
                anchor=f"statement-{s.username}",
            )
            for s in view.statements
        ]
    return RegionHome(
        week=week,
        teams=sorted(teams.values(), key=lambda t: (-t.overdue, t.name)),
        month=month,
        positions=positions,
        no_scheme=no_scheme,
    )
