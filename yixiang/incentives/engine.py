"""From the database to the pure rules and back: the month's inputs, its state, frozen months.

A month's inputs come from a handful of set-based queries (assessments, developed customers,
first-month payment sums, the people involved, shipments for the activity rule); then
``rules.compute_month`` does all the arithmetic. A closed month is read from its stored rows.

Month state chains: the penalty fund and the directors' backlogs after month M−1 open month M
within one scheme version; a version starts from its opening fund and no backlog. The chain starts
at the first month with data in the version (or after the last closed month), so an idle year
costs nothing.

Settlements in month N: for each earlier month M whose version's activity window ends at N
(M = N − window), the activity re-assessment of M's statements as issued; and, in the first month
after the last closed one only, corrections of closed months whose result changed since closing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Min, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from yixiang.accounts.models import Role, User
from yixiang.aftercare.models import Payment, Shipment
from yixiang.errors import DomainError
from yixiang.incentives import rules
from yixiang.incentives.conf import conf
from yixiang.incentives.models import (
    Assessment,
    DevelopedCustomer,
    MonthClose,
    MonthFunds,
    SchemeVersion,
    Statement,
    StatementLine,
)

MAX_WINDOW = 12  # activity windows longer than a year are not looked for


class NoScheme(DomainError):
    status = 400
    code = "no_scheme"


class MonthOutOfRange(NoScheme):
    """A month no data can be in (more than a year ahead, before 1900): refused, never computed.
    A NoScheme, so the pages that show "no scheme" show this message the same way."""

    code = "month_out_of_range"


def month_text(month: dt.date) -> str:
    # strftime("%Y") drops the zero padding of years below 1000.
    return f"{month.year:04d}-{month.month:02d}"


def check_month(versions: list[SchemeVersion], month: dt.date, today: dt.date) -> None:
    """Refuse a month outside rules.month_bounds (``versions`` ordered by valid_from):
    MonthOutOfRange beyond the bounds, NoScheme before the first version."""
    first, last = rules.month_bounds(versions[0].valid_from if versions else None, today)
    if not (rules.EARLIEST_MONTH <= month <= last):
        raise MonthOutOfRange(
            _("%(month)s is out of range: incentives are computed from %(first)s up to %(last)s, a year ahead.")
            % {"month": month_text(month), "first": month_text(first), "last": month_text(last)}
        )
    if month < first:
        raise NoScheme(
            _("No incentive scheme is in force for %(month)s: an administrator must add a version.")
            % {"month": month_text(month)}
        )


def to_scheme(version: SchemeVersion) -> rules.Scheme:
    return rules.Scheme(
        valid_floor=version.valid_floor,
        double_floor=version.double_floor,
        default_threshold=version.default_threshold,
        penalties={int(k): tuple(int(x) for x in v) for k, v in version.penalties.items()},
        reward_steps={int(k): tuple((int(f), int(r)) for f, r in v) for k, v in version.reward_steps.items()},
        director_short=version.director_short,
        director_over=version.director_over,
        probation_factor=Decimal(version.probation_factor),
        min_days_on_staff=version.min_days_on_staff,
        activity_window=version.activity_window,
        activity_min_active=version.activity_min_active,
        fraud_person=version.fraud_person,
        fraud_director=version.fraud_director,
        opening_fund=version.opening_fund,
        counted_categories=tuple(str(c) for c in version.counted_categories or ()),
    )


def version_in_force(versions: Iterable[SchemeVersion], month: dt.date) -> SchemeVersion | None:
    """The version in force on the month's first day (the latest start wins an overlap)."""
    best = None
    for v in versions:
        if v.valid_from <= month and (v.valid_to is None or month <= v.valid_to):
            if best is None or v.valid_from > best.valid_from:
                best = v
    return best


def _chunks(ids: list[int], size: int) -> Iterable[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def line_from_row(row: StatementLine) -> rules.Line:
    line = rules.Line(**{f: getattr(row, f) for f in rules.LINE_FIELDS})
    return replace(line, funding=row.funding or None)


def statement_from_row(row: Statement) -> rules.Statement:
    return rules.Statement(
        **{f: getattr(row, f) for f in rules.STATEMENT_FIELDS}, lines=[line_from_row(x) for x in row.lines.all()]
    )


class Engine:
    """Results of months, computed or frozen. One instance per request or command (it memoises)."""

    def __init__(self) -> None:
        self.versions = list(SchemeVersion.objects.order_by("valid_from"))
        self.closes = {c.month: c for c in MonthClose.objects.all()}
        self.last_closed = max(self.closes) if self.closes else None
        self.tz = ZoneInfo(settings.TIME_ZONE)
        self._results: dict[dt.date, rules.MonthResult] = {}
        self._anchors: dict[int, dt.date] = {}

    # --- versions and state -------------------------------------------------------------------

    def version(self, month: dt.date) -> SchemeVersion:
        v = version_in_force(self.versions, month)
        if v is None:
            raise NoScheme(
                _("No incentive scheme is in force for %(month)s: an administrator must add a version.")
                % {"month": month.strftime("%Y-%m")}
            )
        return v

    def is_closed(self, month: dt.date) -> bool:
        return month in self.closes

    def first_open(self) -> dt.date | None:
        return rules.add_months(self.last_closed, 1) if self.last_closed else None

    def _anchor(self, version: SchemeVersion) -> dt.date:
        """The first month of the version with any incentive data (the chain starts there)."""
        if version.pk not in self._anchors:
            lo = version.valid_from
            hi = version.valid_to or dt.date(9999, 12, 31)
            firsts = [
                Assessment.objects.filter(month__range=(lo, hi)).aggregate(m=Min("month"))["m"],
                DevelopedCustomer.objects.filter(month__range=(lo, hi)).aggregate(m=Min("month"))["m"],
                DevelopedCustomer.objects.filter(faked_found_month__range=(lo, hi)).aggregate(
                    m=Min("faked_found_month")
                )["m"],
            ]
            found = [rules.month_start(m) for m in firsts if m is not None]
            self._anchors[version.pk] = min(found) if found else dt.date(9999, 12, 1)
        return self._anchors[version.pk]

    def _continues(self, month: dt.date) -> bool:
        """Whether month carries state over from the month before (same version, data before)."""
        prev = rules.add_months(month, -1)
        v = version_in_force(self.versions, prev)
        here = version_in_force(self.versions, month)
        if v is None or here is None or v.pk != here.pk:
            return False
        return prev in self.closes or prev >= self._anchor(v)

    def _opening(self, month: dt.date) -> tuple[int, dict[int, int]]:
        """(penalty fund, directors' backlogs) at the start of the month."""
        if not self._continues(month):
            return self.version(month).opening_fund, {}
        prev = self.result(rules.add_months(month, -1))
        return prev.funding.fund_after, dict(prev.backlog_out)

    # --- results ---------------------------------------------------------------------------------

    def result(self, month: dt.date) -> rules.MonthResult:
        """The month as issued: frozen when closed, computed otherwise."""
        if month in self._results:
            return self._results[month]
        # Defence in depth: every entry point checks the month, and the engine refuses it too.
        check_month(self.versions, month, timezone.localdate())
        # Walk back to the start of the chain, then compute forward (no deep recursion).
        chain = [month]
        while chain[-1] not in self.closes and self._continues(chain[-1]):
            prev = rules.add_months(chain[-1], -1)
            if prev in self._results:
                break
            chain.append(prev)
        for m in reversed(chain):
            if m not in self._results:
                self._results[m] = self._frozen(m) if m in self.closes else self._compute(m)
        return self._results[month]

    def _frozen(self, month: dt.date) -> rules.MonthResult:
        close = self.closes[month]
        rows = Statement.objects.filter(month=month).prefetch_related("lines").order_by("username")
        statements = [statement_from_row(r) for r in rows]
        statements.sort(key=lambda s: (s.role != rules.DIRECTOR, s.username))
        funding = rules.Funding(**{f: getattr(close, f) for f in rules.FUNDING_FIELDS})
        return rules.MonthResult(
            month=month,
            statements=statements,
            funding=funding,
            backlog_out={int(k): v for k, v in close.backlogs.items()},
        )

    def _compute(
        self, month: dt.date, *, fund_before: int | None = None, corrections: bool = True, keep: Iterable[int] = ()
    ) -> rules.MonthResult:
        version = self.version(month)
        scheme = to_scheme(version)
        fund, backlogs = self._opening(month)
        settlements = self.activity_settlements(month)
        if corrections and month == self.first_open():
            for user_id, lines in self.corrections(month).items():
                settlements[user_id].extend(lines)
        inp = self.month_input(
            month,
            version,
            scheme,
            fund_before=fund if fund_before is None else fund_before,
            backlog_in=backlogs,
            settlements=settlements,
            keep=keep,
        )
        return rules.compute_month(inp)

    # --- inputs ----------------------------------------------------------------------------------

    def month_input(
        self,
        month: dt.date,
        version: SchemeVersion,
        scheme: rules.Scheme,
        *,
        fund_before: int,
        backlog_in: dict[int, int],
        settlements: dict[int, list[rules.Line]],
        keep: Iterable[int] = (),
    ) -> rules.MonthInput:
        """The month's inputs. ``keep``: people to load even if no longer active (a closed month's)."""
        end = rules.month_end(month)
        rows = list(
            Assessment.objects.filter(month=month).values(
                "user_id", "threshold", "performance_pay", "target", "target_filed_at", "on_probation", "region_id"
            )
        )
        developed = list(
            DevelopedCustomer.objects.filter(Q(month=month) | Q(faked=True, faked_found_month=month)).values(
                "customer_id", "customer__name", "developer_id", "month", "position", "faked", "faked_found_month"
            )
        )
        payments = Payment.objects.filter(customer__development__month=month, paid_on__range=(month, end))
        if scheme.counted_categories:  # item 7: only the scheme's product categories count
            payments = payments.filter(category__in=scheme.counted_categories)
        paid = dict(payments.values("customer_id").annotate(total=Sum("amount")).values_list("customer_id", "total"))
        ids = {r["user_id"] for r in rows} | {d["developer_id"] for d in developed} | set(settlements) | set(keep)
        users = {
            u["id"]: u
            for u in User.objects.filter(Q(role=Role.DIRECTOR, is_active=True) | Q(pk__in=list(ids))).values(
                "id",
                "username",
                "role",
                "team__region_id",
                "region_id",
                "hire_date",
                "on_probation",
                "probation_until",
                "is_active",
            )
        }
        keep_set = set(keep)
        due = rules.target_due(month, version.target_due_day, version.target_due_time, self.tz)
        by_user = {r["user_id"]: r for r in rows}
        people: dict[int, rules.Person] = {}
        for uid, u in users.items():
            row = by_user.get(uid)
            people[uid] = rules.Person(
                user_id=uid,
                username=u["username"],
                role=u["role"],
                region_id=(row and row["region_id"]) or u["team__region_id"] or u["region_id"],
                # Someone who has left is only here to receive adjustments, unless the month had them.
                days_on_staff=rules.days_on_staff(month, u["hire_date"])
                if u["is_active"] or row is not None or uid in keep_set
                else 0,
                on_probation=row["on_probation"]
                if row
                else rules.on_probation_in(month, flag=u["on_probation"], until=u["probation_until"]),
                has_row=row is not None,
                threshold=row["threshold"] if row else None,
                performance_pay=row["performance_pay"] if row else None,
                target=row["target"] if row else None,
                target_late=rules.filed_late(row["target_filed_at"] if row else None, due),
            )
        customers = []
        found = []
        for d in developed:
            region = people[d["developer_id"]].region_id
            if d["month"] == month:
                customers.append(
                    rules.NewCustomer(
                        customer_id=d["customer_id"],
                        name=d["customer__name"],
                        developer_id=d["developer_id"],
                        region_id=region,
                        paid=paid.get(d["customer_id"]) or Decimal(0),
                        position=d["position"],
                        faked=d["faked"],
                    )
                )
            if d["faked"] and d["faked_found_month"] == month:
                found.append(
                    rules.FakedFind(
                        customer_id=d["customer_id"],
                        name=d["customer__name"],
                        developer_id=d["developer_id"],
                        region_id=region,
                        developed_month=d["month"],
                    )
                )
        funds = MonthFunds.objects.filter(month=month).first()
        return rules.MonthInput(
            month=month,
            scheme=scheme,
            people=people,
            customers=customers,
            faked_found=found,
            fund_before=fund_before,
            management_fund=funds.management_fund if funds else 0,
            efficiency_wages=funds.efficiency_wages if funds else 0,
            backlog_in=backlog_in,
            settlements={k: tuple(v) for k, v in settlements.items()},
        )

    # --- settlements of earlier months ---------------------------------------------------------

    def activity_settlements(self, month: dt.date) -> dict[int, list[rules.Line]]:
        """Re-assessment lines, in ``month``, of months whose activity window has just ended."""
        out: dict[int, list[rules.Line]] = defaultdict(list)
        for k in range(1, MAX_WINDOW + 1):
            developed = rules.add_months(month, -k)
            v = version_in_force(self.versions, developed)
            if v is None or v.activity_window != k:
                continue
            if developed not in self.closes and developed < self._anchor(v):
                continue  # no data that month
            stated = self.result(developed)
            inactive = self._inactive(stated, developed, v)
            if not inactive:
                continue
            scheme = to_scheme(v)
            for st in stated.statements:
                lines = rules.reassess_for_activity(st, inactive, month=developed, scheme=scheme)
                if lines:
                    out[st.user_id].extend(lines)
        return out

    def _inactive(
        self, stated: rules.MonthResult, developed: dt.date, version: SchemeVersion
    ) -> dict[int, rules.Inactive]:
        names: dict[int, str] = {}
        for st in stated.statements:
            for c in st.detail.get("customers", []):
                names[c["id"]] = c["name"]
            for cid, _units in st.detail.get("region_customers", []):
                names.setdefault(cid, "")
        if not names:
            return {}
        last = rules.month_end(rules.add_months(developed, version.activity_window - 1))
        shipped: dict[int, set[dt.date]] = defaultdict(set)
        for chunk in _chunks(sorted(names), conf("INCENTIVES_ID_CHUNK")):
            pairs = (
                Shipment.objects.filter(customer_id__in=chunk, shipped_on__range=(developed, last))
                .annotate(m=TruncMonth("shipped_on"))
                .values_list("customer_id", "m")
                .distinct()
            )
            for cid, m in pairs:
                shipped[cid].add(m if isinstance(m, dt.date) and not isinstance(m, dt.datetime) else m.date())
        missing = [cid for cid, name in names.items() if not name]
        if missing:
            for chunk in _chunks(missing, conf("INCENTIVES_ID_CHUNK")):
                for cid, name in DevelopedCustomer.objects.filter(customer_id__in=chunk).values_list(
                    "customer_id", "customer__name"
                ):
                    names[cid] = name
        out = {}
        for cid, name in names.items():
            active = rules.active_months(developed, shipped.get(cid, ()), version.activity_window)
            if active < version.activity_min_active:
                out[cid] = rules.Inactive(customer_id=cid, name=name, active=active)
        return out

    def corrections(self, month: dt.date) -> dict[int, list[rules.Line]]:
        """Correction lines, in the first open month, for closed months whose result changed."""
        if month != self.first_open():
            return {}
        lookback = conf("INCENTIVES_CORRECTION_MONTHS")
        closed = sorted(m for m in self.closes if m >= rules.add_months(month, -lookback))
        if not closed:
            return {}
        already: dict[tuple[int, dt.date], int] = {
            (r["statement__user_id"], r["refers_to"]): r["total"]
            for r in StatementLine.objects.filter(kind=rules.CORRECTION, refers_to__in=closed)
            .values("statement__user_id", "refers_to")
            .annotate(total=Sum("amount"))
        }
        out: dict[int, list[rules.Line]] = defaultdict(list)
        for c in closed:
            if version_in_force(self.versions, c) is None:
                continue
            frozen = self.result(c)
            # Recomputed from the same start, with everyone who was in it (a director may have left).
            keep = [s.user_id for s in frozen.statements]
            now = self._compute(c, fund_before=self.closes[c].fund_before, corrections=False, keep=keep)
            lines = rules.correction_lines(
                month=c,
                recomputed=now.by_user(),
                frozen=frozen.by_user(),
                already={uid: total for (uid, m), total in already.items() if m == c},
            )
            for uid, line in lines.items():
                out[uid].append(line)
        return out
