"""Writes of the incentive scheme: versions, monthly assessments, developed customers, closing a month.

Who may write: administrators everything; a director the assessments and developed customers of
the staff in their region. Marking a customer as faked (the company's finding) and closing a
month are for administrators.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yixiang.accounts import permissions
from yixiang.accounts.models import AuditAction, Role, User
from yixiang.accounts.scoping import staff_in_scope
from yixiang.accounts.services import audit
from yixiang.aftercare.models import Payment
from yixiang.customers.models import Customer
from yixiang.customers.scoping import visible_customers
from yixiang.errors import Conflict, DomainError, NotFound, ValidationFailed
from yixiang.incentives import rules
from yixiang.incentives.engine import Engine, to_scheme, version_in_force
from yixiang.incentives.models import (
    Assessment,
    DevelopedCustomer,
    MonthClose,
    MonthFunds,
    SchemeVersion,
    Statement,
    StatementLine,
)

SCHEME_FIELDS = (
    "name", "valid_from", "valid_to", "valid_floor", "double_floor", "default_threshold", "penalties",
    "reward_steps", "director_short", "director_over", "probation_factor", "min_days_on_staff",
    "activity_window", "activity_min_active", "fraud_person", "fraud_director", "opening_fund", "counted_categories",
    "target_due_day", "target_due_time", "note",
)  # fmt: skip


def forbidden() -> DomainError:
    """The refusal for someone who keeps no incentive inputs."""
    return _forbidden()


def _forbidden() -> DomainError:
    return DomainError(_("You may not change incentive data."), code="forbidden")


def _require_admin(actor: User) -> None:
    if not permissions.is_admin(actor):
        raise DomainError(_("Only an administrator may do this."), code="forbidden")


def _require_keeper(actor: User) -> None:
    """Directors (for their region) and administrators keep the monthly inputs."""
    if not permissions.keeps_incentive_inputs(actor):
        raise _forbidden()


def _region_id(user: User) -> int | None:
    return user.team.region_id if user.team_id else user.region_id


def _staff(actor: User, user_id: int) -> User:
    """A staff member in the actor's scope, else 404 (existence does not leak)."""
    user = staff_in_scope(actor).filter(pk=user_id).select_related("team").first()
    if user is None:
        raise NotFound(_("Not found."))
    return user


# --- Scheme versions -------------------------------------------------------------------------------


def _scheme_errors(data: Mapping[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    try:
        scheme = rules.Scheme(
            valid_floor=int(data["valid_floor"]),
            double_floor=int(data["double_floor"]),
            default_threshold=int(data["default_threshold"]),
            penalties={int(k): tuple(int(x) for x in v) for k, v in data["penalties"].items()},
            reward_steps={int(k): tuple((int(f), int(r)) for f, r in v) for k, v in data["reward_steps"].items()},
            probation_factor=data["probation_factor"],
            activity_window=int(data["activity_window"]),
            activity_min_active=int(data["activity_min_active"]),
        )
        rules.check_scheme(scheme)
    except rules.SchemeError as exc:
        errors["penalties"] = [_("The scheme's tables are not usable: %(problem)s") % {"problem": exc}]
    except (TypeError, ValueError, AttributeError, KeyError):
        errors["penalties"] = [_("The scheme's tables are not usable.")]
    return errors


@transaction.atomic
def scheme_version_save(*, actor: User, data: Mapping[str, Any], version: SchemeVersion | None = None) -> SchemeVersion:
    """Create or change a scheme version. Versions may not overlap in time."""
    _require_admin(actor)
    errors = _scheme_errors(data)
    valid_from, valid_to = data["valid_from"], data.get("valid_to")
    if valid_to is not None and valid_to < valid_from:
        errors["valid_to"] = [_("The end date lies before the start date.")]
    others = SchemeVersion.objects.select_for_update().exclude(pk=version.pk if version else None)
    clash = others.filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=valid_from),
        **({"valid_from__lte": valid_to} if valid_to is not None else {}),
    ).first()
    if clash is not None:
        errors["valid_from"] = [
            _("These dates overlap the version “%(name)s” (%(start)s to %(end)s).")
            % {"name": clash.name, "start": clash.valid_from, "end": clash.valid_to or _("open")}
        ]
    if errors:
        raise ValidationFailed(errors)
    before = {f: str(getattr(version, f)) for f in SCHEME_FIELDS} if version else {}
    version = version or SchemeVersion()
    for f in SCHEME_FIELDS:
        if f in data:
            setattr(version, f, data[f])
    version.updated_at = timezone.now()
    version.updated_by = actor
    version.full_clean()
    version.save()
    after = {f: str(getattr(version, f)) for f in SCHEME_FIELDS}
    changed = {f: [before.get(f), after[f]] for f in SCHEME_FIELDS if before.get(f) != after[f]}
    audit(actor, AuditAction.INCENTIVE_SCHEME_SAVED, target=version, changed=changed)
    return version


# --- Monthly assessments ---------------------------------------------------------------------------


def _version_for(month: dt.date) -> SchemeVersion:
    return Engine().version(month)


@transaction.atomic
def assessment_save(
    *,
    actor: User,
    user_id: int,
    month: dt.date,
    threshold: int | None,
    performance_pay: int,
    target: int | None = None,
    on_probation: bool | None = None,
) -> Assessment:
    """File a person's row for the month: a manager's threshold and pay, or a director's target.

    The filing time is kept whenever the threshold or target changes: the region's targets are
    due by the version's day and time (the 6th, 08:00), a later filing is flagged on the statement.
    """
    _require_keeper(actor)
    month = rules.month_start(month)
    user = _staff(actor, user_id)
    version = _version_for(month)
    scheme = to_scheme(version)
    errors: dict[str, list[str]] = {}
    if user.role == Role.DIRECTOR:
        threshold = None
    elif threshold is None:
        threshold = scheme.default_threshold
    if threshold is not None and threshold not in scheme.thresholds:
        errors["threshold"] = [
            _("The threshold must be one of %(allowed)s.") % {"allowed": ", ".join(str(t) for t in scheme.thresholds)}
        ]
    if performance_pay is None or performance_pay < 0:
        errors["performance_pay"] = [_("The performance pay is a whole number of yuan, 0 or more.")]
    if target is not None and target < 0:
        errors["target"] = [_("The target is a number of customers, 0 or more.")]
    if errors:
        raise ValidationFailed(errors)
    row = Assessment.objects.select_for_update().filter(user=user, month=month).first()
    now = timezone.now()
    if row is None:
        row = Assessment(user=user, month=month, target_filed_at=now, region_id=_region_id(user))
        row.on_probation = _probation_default(user, month) if on_probation is None else on_probation
    elif row.threshold != threshold or row.target != target:
        row.target_filed_at = now
    if on_probation is not None:
        row.on_probation = on_probation
    row.threshold = threshold
    row.performance_pay = performance_pay
    row.target = target
    row.updated_at = now
    row.updated_by = actor
    row.save()
    return row


def _probation_default(user: User, month: dt.date) -> bool:
    """A new month row starts from the staff record: its last day of probation if set, else its flag."""
    return rules.on_probation_in(month, flag=user.on_probation, until=user.probation_until)


@transaction.atomic
def assessment_delete(*, actor: User, assessment_id: int) -> None:
    _require_keeper(actor)
    row = Assessment.objects.filter(pk=assessment_id, user__in=staff_in_scope(actor)).first()
    if row is None:
        raise NotFound(_("Not found."))
    row.delete()


@transaction.atomic
def assessments_copy_forward(*, actor: User, month: dt.date) -> int:
    """Start a month from the month before: same thresholds and pay, target to be filed."""
    _require_keeper(actor)
    month = rules.month_start(month)
    prev = rules.add_months(month, -1)
    scope = staff_in_scope(actor)
    have = set(Assessment.objects.filter(month=month).values_list("user_id", flat=True))
    rows = [
        Assessment(
            user_id=r.user_id,
            month=month,
            threshold=r.threshold,
            performance_pay=r.performance_pay,
            on_probation=_probation_default(r.user, month),
            region_id=_region_id(r.user),
            updated_by=actor,
        )
        for r in Assessment.objects.filter(month=prev, user__in=scope).select_related("user", "user__team")
        if r.user_id not in have
    ]
    Assessment.objects.bulk_create(rows)
    return len(rows)


# --- Developed customers -------------------------------------------------------------------------------


@transaction.atomic
def developed_customers_derive(*, actor: User | None, month: dt.date) -> int:
    """Record as developed in ``month`` every customer in scope whose first payment falls in it.

    The developer is the customer's owner; the reported order date is the first payment.
    Customers already recorded are left alone; customers without an owner are skipped.
    ``actor`` None is the system (the management command): every customer.
    """
    if actor is not None:
        _require_keeper(actor)
    month = rules.month_start(month)
    end = rules.month_end(month)
    scope = visible_customers(actor, include_pool=False) if actor is not None else Customer.objects.all()
    customers = scope.filter(development__isnull=True, owner__isnull=False)
    firsts = (
        Payment.objects.filter(customer__in=customers)
        .values("customer_id", "customer__owner_id")
        .annotate(first=Min("paid_on"))
        .filter(first__range=(month, end))
    )
    # New rows go after those already reported, in first-payment order (a starting order the
    # region then corrects: the date itself never ranks).
    start = _last_position(month)
    rows = [
        DevelopedCustomer(
            customer_id=r["customer_id"],
            developer_id=r["customer__owner_id"],
            month=month,
            reported_on=r["first"],
            position=start + i,
            source=DevelopedCustomer.Source.PAYMENTS,
            created_by=actor,
        )
        for i, r in enumerate(sorted(firsts, key=lambda r: (r["first"], r["customer_id"])), start=1)
    ]
    DevelopedCustomer.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def _last_position(month: dt.date) -> int:
    return DevelopedCustomer.objects.filter(month=month).aggregate(m=Max("position"))["m"] or 0


def _first_payment_in(customer_id: int, month: dt.date) -> dt.date | None:
    return Payment.objects.filter(customer_id=customer_id, paid_on__range=(month, rules.month_end(month))).aggregate(
        m=Min("paid_on")
    )["m"]


@transaction.atomic
def developed_customer_record(
    *,
    actor: User,
    customer_id: int,
    developer_id: int,
    month: dt.date,
    reported_on: dt.date | None = None,
) -> DevelopedCustomer:
    """Record by hand that a person developed a customer in a month."""
    _require_keeper(actor)
    month = rules.month_start(month)
    customer = visible_customers(actor, include_pool=False).filter(pk=customer_id).first()
    if customer is None:
        raise NotFound(_("Not found."))
    developer = _staff(actor, developer_id)
    if reported_on is None:
        reported_on = _first_payment_in(customer.pk, month) or month
    if rules.month_start(reported_on) != month:
        raise ValidationFailed({"reported_on": [_("The reported order date must lie in the month developed.")]})
    try:
        with transaction.atomic():
            row = DevelopedCustomer.objects.create(
                customer=customer,
                developer=developer,
                month=month,
                reported_on=reported_on,
                position=_last_position(month) + 1,  # last in the region's report until reordered
                source=DevelopedCustomer.Source.MANUAL,
                created_by=actor,
            )
    except IntegrityError:
        raise Conflict(_("%(name)s is already recorded as a developed customer.") % {"name": customer.name}) from None
    return row


def _developed_in_scope(actor: User, developed_id: int) -> DevelopedCustomer:
    row = (
        DevelopedCustomer.objects.select_for_update()
        .filter(pk=developed_id, customer__in=visible_customers(actor, include_pool=True, include_deleted=True))
        .first()
    )
    if row is None:
        raise NotFound(_("Not found."))
    return row


def _month_rows_in_scope(actor: User, month: dt.date) -> list[DevelopedCustomer]:
    """The month's developed customers the actor keeps (a director: the region's), in reported order."""
    return list(
        DevelopedCustomer.objects.select_for_update()
        .filter(month=month, customer__in=visible_customers(actor, include_pool=True, include_deleted=True))
        .order_by("position", "id")
    )


@transaction.atomic
def developed_order_set(*, actor: User, month: dt.date, ids: list[int]) -> list[DevelopedCustomer]:
    """Set the region's reported order of a month's new customers (item 8).

    ``ids`` are every developed-customer row of the month the actor keeps, first to last. They take
    the positions those rows already hold, in the new order, so other regions' rows do not move.
    """
    _require_keeper(actor)
    month = rules.month_start(month)
    if month in set(MonthClose.objects.values_list("month", flat=True)):
        raise Conflict(_("%(month)s is closed: its order can no longer change.") % {"month": month.strftime("%Y-%m")})
    rows = _month_rows_in_scope(actor, month)
    by_id = {r.pk: r for r in rows}
    if len(ids) != len(set(ids)) or set(ids) != set(by_id):
        raise ValidationFailed(
            {"ids": [_("List every new customer of the month exactly once (%(n)s of them).") % {"n": len(rows)}]}
        )
    slots = sorted(r.position for r in rows)
    if len(set(slots)) != len(slots):  # never expected; renumber after the others to stay unique
        base = _last_position(month)
        slots = [base + i for i in range(1, len(rows) + 1)]
    ordered = [by_id[i] for i in ids]
    for row, slot in zip(ordered, slots, strict=True):
        row.position = slot
    DevelopedCustomer.objects.bulk_update(ordered, ["position"])
    audit(
        actor, AuditAction.INCENTIVE_ORDER_SET, target=ordered[0] if ordered else None, month=month.isoformat(), ids=ids
    )
    return ordered


def developed_move(*, actor: User, developed_id: int, step: int) -> list[DevelopedCustomer]:
    """Move one new customer up (step −1) or down (+1) in its month's reported order."""
    with transaction.atomic():
        row = _developed_in_scope(actor, developed_id)
        ids = [r.pk for r in _month_rows_in_scope(actor, row.month)]
        i = ids.index(row.pk)
        j = min(max(i + step, 0), len(ids) - 1)
        ids[i], ids[j] = ids[j], ids[i]
        return developed_order_set(actor=actor, month=row.month, ids=ids)


# --- The month's reward funds (item 11) --------------------------------------------------------------


@transaction.atomic
def month_funds_set(*, actor: User, month: dt.date, management_fund: int, efficiency_wages: int) -> MonthFunds:
    """Enter the month's management-assessment fund and team efficiency wages (administrators)."""
    _require_admin(actor)
    month = rules.month_start(month)
    errors = {
        name: [_("Enter an amount of 0 yuan or more.")]
        for name, value in (("management_fund", management_fund), ("efficiency_wages", efficiency_wages))
        if value is None or int(value) < 0
    }
    if errors:
        raise ValidationFailed(errors)
    if MonthClose.objects.filter(month=month).exists():
        raise Conflict(_("%(month)s is closed: its funds can no longer change.") % {"month": month.strftime("%Y-%m")})
    row, _created = MonthFunds.objects.update_or_create(
        month=month,
        defaults={
            "management_fund": int(management_fund),
            "efficiency_wages": int(efficiency_wages),
            "updated_at": timezone.now(),
            "updated_by": actor,
        },
    )
    audit(
        actor,
        AuditAction.INCENTIVE_FUNDS_SET,
        target=row,
        month=month.isoformat(),
        management_fund=row.management_fund,
        efficiency_wages=row.efficiency_wages,
    )
    return row


@transaction.atomic
def developed_customer_delete(*, actor: User, developed_id: int) -> None:
    _require_keeper(actor)
    _developed_in_scope(actor, developed_id).delete()


@transaction.atomic
def developed_customer_mark_faked(
    *, actor: User, developed_id: int, found_month: dt.date | None = None, note: str = ""
) -> DevelopedCustomer:
    """The company found the development faked: fines fall in the month found (by default this month)."""
    _require_admin(actor)
    row = _developed_in_scope(actor, developed_id)
    found = rules.month_start(found_month or timezone.localdate())
    if found < row.month:
        raise ValidationFailed({"found_month": [_("A faking cannot be found before the month developed.")]})
    row.faked = True
    row.faked_found_month = found
    row.faked_note = note[:300]
    row.save()
    audit(actor, AuditAction.INCENTIVE_MARKED_FAKED, target=row, customer=row.customer_id, found=found.isoformat())
    return row


@transaction.atomic
def developed_customer_unmark_faked(*, actor: User, developed_id: int) -> DevelopedCustomer:
    _require_admin(actor)
    row = _developed_in_scope(actor, developed_id)
    row.faked = False
    row.faked_found_month = None
    row.faked_note = ""
    row.save()
    audit(actor, AuditAction.INCENTIVE_UNMARKED_FAKED, target=row, customer=row.customer_id)
    return row


# --- Closing a month -----------------------------------------------------------------------------------


def _closable(engine: Engine, month: dt.date, today: dt.date) -> None:
    if rules.month_end(month) >= today:
        raise ValidationFailed({"month": [_("A month can be closed once it is over.")]})
    if engine.is_closed(month):
        raise Conflict(_("%(month)s is already closed.") % {"month": month.strftime("%Y-%m")})
    nxt = engine.first_open()
    if nxt is not None and month != nxt:
        raise ValidationFailed(
            {
                "month": [
                    _("Months close in order: the next month to close is %(month)s.") % {"month": nxt.strftime("%Y-%m")}
                ]
            }
        )


@transaction.atomic
def month_close(*, actor: User | None, month: dt.date) -> MonthClose:
    """Freeze a month: its statements are stored and later changes become adjustment lines."""
    if actor is not None:
        _require_admin(actor)
    month = rules.month_start(month)
    # Serialise closings: the unique month row is taken first.
    list(MonthClose.objects.select_for_update().all())
    engine = Engine()
    _closable(engine, month, timezone.localdate())
    result = engine.result(month)
    version = version_in_force(engine.versions, month)
    try:
        with transaction.atomic():
            close = MonthClose.objects.create(
                month=month,
                version=version,
                **{f: getattr(result.funding, f) for f in rules.FUNDING_FIELDS},
                backlogs={str(k): v for k, v in result.backlog_out.items()},
                closed_by=actor,
            )
    except IntegrityError:
        raise Conflict(_("%(month)s is already closed.") % {"month": month.strftime("%Y-%m")}) from None
    rows = Statement.objects.bulk_create(
        [
            Statement(month=month, total=s.total, **{f: getattr(s, f) for f in rules.STATEMENT_FIELDS})
            for s in result.statements
        ]
    )
    ids = {r.user_id: r.pk for r in rows}
    if any(pk is None for pk in ids.values()):  # a backend without RETURNING on bulk insert
        ids = dict(Statement.objects.filter(month=month).values_list("user_id", "pk"))
    StatementLine.objects.bulk_create(
        [
            StatementLine(
                statement_id=ids[s.user_id],
                position=i,
                **{f: getattr(line, f) for f in rules.LINE_FIELDS if f not in ("funding", "params")},
                params=dict(line.params),
                funding=line.funding or "",
            )
            for s in result.statements
            for i, line in enumerate(s.lines)
        ],
        batch_size=2000,
    )
    audit(actor, AuditAction.INCENTIVE_MONTH_CLOSED, target=close, month=month.isoformat(), statements=len(rows))
    return close


def statements_exported(*, actor: User, month: dt.date, statements: int) -> None:
    """A month's statements left the system as a spreadsheet: the audit row says who and when."""
    audit(
        actor, AuditAction.INCENTIVE_STATEMENTS_EXPORTED,
        target_type="incentive_month", target_id=month.strftime("%Y-%m"), statements=statements,
    )  # fmt: skip
