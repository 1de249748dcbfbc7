"""Writes of a migrated follow-up history (issue 16), set-based: a batch of past follow-ups in a few
statements instead of one ``followup_log`` transaction per row.

Each row is checked and judged by the same functions ``followup_log`` uses (``validate_followup``,
``propose_stage``, ``judge_followup``, the due-date rule and the history entry), customer by
customer in time order on the customer rows read once under lock; then the follow-ups, stage
changes and history entries go in with ``bulk_create``, the customers with one ``bulk_update``,
and the side effects ``followup_log`` has on other rows (release and recycling proposals of a risen
customer, the first-contact deadline, a same-day visit plan) with one statement each. So the
stage-change rows, due dates, agenda, judgment accuracy and activity are those of the live path.
Nothing is announced: a follow-up has no event, and a history import must not notify anyone.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Model, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from yixiang.accounts.models import User
from yixiang.customers.models import Customer, CustomerChange
from yixiang.errors import ValidationFailed
from yixiang.pipeline import rules
from yixiang.pipeline.conf import conf
from yixiang.pipeline.models import (
    CustomerProfile,
    FollowUp,
    FollowUpChannel,
    RecycleProposal,
    ReleaseProposal,
    StageChange,
    VisitPlan,
)
from yixiang.pipeline.selectors import work_calendar
from yixiang.pipeline.services import (
    FOLLOWUP_CUSTOMER_FIELDS,
    _due_after_contact,
    _local_date,
    _start_of,
    history_snapshot,
    judge_followup,
    pipeline_history_entry,
    pool_followup_refusal,
    propose_stage,
    validate_followup,
)


@dataclass(slots=True)
class PastFollowUp:
    """One follow-up of a migrated history. ``actor`` None: the customer's owner records it."""

    customer_id: int
    at: dt.datetime
    actor: User | None = None
    channel: str = FollowUpChannel.PHONE
    effective: bool = True
    summary: str = ""
    signals: Sequence[str] = ()
    stage: int | None = None
    # Set by followups_record_past: the saved follow-up, or the reason it was refused.
    follow_up: FollowUp | None = field(default=None, init=False)
    error: str | None = field(default=None, init=False)


def _messages(exc: ValidationFailed) -> str:
    errors = getattr(exc, "errors", None)
    if isinstance(errors, dict) and errors:
        return " ".join(str(m) for msgs in errors.values() for m in msgs)
    return str(exc)


@transaction.atomic
def followups_record_past(*, items: Sequence[PastFollowUp]) -> None:
    """Record past follow-ups as ``followup_log(history_import=True)`` would one by one, in the
    order given (oldest first: the caller sorts). Each item gets ``follow_up`` or ``error``.

    Queries per call, whatever the number of rows: the customers (locked, with their newest
    follow-up's plan), the statutory calendar, the inserts, one customer update, and one statement
    per side effect that has rows."""
    if not items:
        return
    now = timezone.now()
    today = _local_date(now)
    backdate_days = (now.date() - rules.EARLIEST_BUSINESS_DATE).days + 1
    newest = FollowUp.objects.filter(customer=OuterRef("pk")).order_by("-at", "-id")
    customers = (
        Customer.objects.select_for_update(of=("self",))
        .select_related("owner")
        # What checking and judging read and the update writes: a customer has ~70 columns.
        .only("owner", *FOLLOWUP_CUSTOMER_FIELDS)
        .annotate(
            newest_at=Subquery(newest.values("at")[:1]), newest_plan=Subquery(newest.values("next_contact_on")[:1])
        )
        .in_bulk({i.customer_id for i in items})
    )
    # One calendar for the batch: every due date computed below looks at most the longest cadence
    # plus a month past a contact of the batch or today (what ``due_calendar`` reads per row).
    days = [_local_date(i.at) for i in items] + [today]
    reach = max(int(v) for v in conf("CADENCE_DAYS").values()) + 31
    calendar = work_calendar(min(days), max(days) + dt.timedelta(days=reach))

    created: list[PastFollowUp] = []
    changes: list[StageChange] = []
    entries: list[CustomerChange] = []
    touched: dict[int, Customer] = {}
    risen: set[int] = set()
    imported_newest: dict[int, dt.datetime] = {}
    for item in items:
        current = customers.get(item.customer_id)
        if current is None:  # removed since the caller looked it up
            item.error = _("This customer is no longer in the archive.")
            continue
        summary = (item.summary or "").strip()
        signals = list(dict.fromkeys(item.signals))
        proposals = propose_stage(signals=signals, text=summary)
        try:
            validate_followup(
                customer=current,
                at=item.at,
                now=now,
                channel=item.channel,
                duration_minutes=None,
                stage=item.stage,
                grade=None,
                next_contact_on=None,
                decision_maker="",
                summary=summary,
                proposals=proposals,
                backdate_days=backdate_days,
            )
        except ValidationFailed as exc:
            item.error = _messages(exc)
            continue
        if current.owner_id is None:
            item.error = str(pool_followup_refusal())
            continue
        actor = item.actor or current.owner
        before = history_snapshot(current)
        fu, change, rose = judge_followup(
            current,
            actor=actor,
            stage=item.stage,
            at=item.at,
            channel=item.channel,
            effective=item.effective,
            summary=summary,
            signals=signals,
            proposals=proposals,
        )
        if change is not None:
            change.follow_up = fu
            changes.append(change)
        if rose:
            risen.add(current.pk)
        # The newest record's plan counts (followup_log reads it back): an imported row has none,
        # and it is the newest once it is not older than the newest already stored (a later id
        # wins a tie of times).
        last_imported = imported_newest.get(current.pk)
        if last_imported is None or item.at > last_imported:
            imported_newest[current.pk] = last_imported = item.at
        stored_at = current.newest_at  # type: ignore[attr-defined]
        planned = current.newest_plan if stored_at is not None and stored_at > last_imported else None  # type: ignore[attr-defined]
        current.next_due_on = _due_after_contact(current, planned_next=planned, today=today, calendar=calendar)
        current.version += 1
        current.updated_at = now
        entry = pipeline_history_entry(customer=current, actor=actor, before=before, source="followup")
        if entry is not None:
            entry.at = now
            entries.append(entry)
        item.follow_up = fu
        created.append(item)
        touched[current.pk] = current
    if not created:
        return
    _insert(FollowUp, [i.follow_up for i in created], returning=True)
    for change in changes:
        change.follow_up_id = change.follow_up.pk  # type: ignore[union-attr]
    _insert(StageChange, changes)
    _insert(CustomerChange, entries)
    _update_by_pk(Customer, list(touched.values()), FOLLOWUP_CUSTOMER_FIELDS)
    if risen:
        ReleaseProposal.objects.filter(customer_id__in=risen).delete()
        RecycleProposal.objects.filter(customer_id__in=risen, decided_at__isnull=True).delete()
    CustomerProfile.objects.filter(customer_id__in=touched, first_contact_due_at__isnull=False).update(
        first_contact_due_at=None
    )
    _close_visit_plans([i.follow_up for i in created if i.channel == FollowUpChannel.VISIT])  # type: ignore[misc]


def _close_visit_plans(visits: list[FollowUp]) -> None:
    """A logged visit completes the earliest planned visit of its customer that day (as
    ``followup_log`` does per row), in the order the visits happened."""
    if not visits:
        return
    plans: dict[int, list[VisitPlan]] = defaultdict(list)
    for plan in VisitPlan.objects.filter(
        customer_id__in={fu.customer_id for fu in visits}, status=VisitPlan.Status.PLANNED
    ).order_by("at", "pk"):
        plans[plan.customer_id].append(plan)
    done = []
    for fu in visits:
        open_plans = plans.get(fu.customer_id)
        if not open_plans:
            continue
        day = _local_date(fu.at)
        start, end = _start_of(day), _start_of(day + dt.timedelta(days=1))
        plan = next((p for p in open_plans if start <= p.at < end), None)
        if plan is not None:
            open_plans.remove(plan)
            plan.status, plan.follow_up = VisitPlan.Status.DONE, fu
            done.append(plan)
    VisitPlan.objects.bulk_update(done, ["status", "follow_up"], batch_size=500)


def _update_by_pk(model: type[Model], objs: list, fields: list[str], size: int = 500) -> None:
    """``bulk_update`` in one statement per ``size`` rows: UPDATE … FROM a VALUES list (SQLite
    3.33+, PostgreSQL). Django's bulk_update builds a CASE per field and row in Python, which took
    most of the import's time."""
    connection = connections[DEFAULT_DB_ALIAS]  # not the proxy: it looks the connection up on each use
    q = connection.ops.quote_name
    pk = model._meta.pk
    cols = [pk, *(model._meta.get_field(f) for f in fields)]
    names = ", ".join(q(f.column) for f in cols)
    sets = ", ".join(f"{q(f.column)} = v.{q(f.column)}" for f in cols[1:])
    table = q(model._meta.db_table)
    plain = "(" + ", ".join(["%s"] * len(cols)) + ")"
    # PostgreSQL types a VALUES column from its rows: the first row says what each column is.
    first = (
        "(" + ", ".join(f"CAST(%s AS {f.db_type(connection)})" for f in cols) + ")"
        if connection.vendor == "postgresql"
        else plain
    )
    with connection.cursor() as cur:
        for start in range(0, len(objs), size):
            chunk = objs[start : start + size]
            params = [f.get_db_prep_save(getattr(o, f.attname), connection) for o in chunk for f in cols]
            values = ", ".join([first] + [plain] * (len(chunk) - 1))
            cur.execute(
                f"WITH v ({names}) AS (VALUES {values}) "  # noqa: S608 (names from the model)
                f"UPDATE {table} SET {sets} FROM v WHERE {table}.{q(pk.column)} = v.{q(pk.column)}",
                params,
            )


def _insert(model: type[Model], objs: list, *, returning: bool = False, size: int = 500) -> None:
    """``bulk_create`` without its per-value compiling: one multi-row INSERT per ``size`` rows of
    the values ``get_db_prep_save`` gives (what bulk_create sends), the new ids read back in order
    with RETURNING like bulk_create does on SQLite and PostgreSQL."""
    if not objs:
        return
    connection = connections[DEFAULT_DB_ALIAS]  # not the proxy: it looks the connection up on each use
    q = connection.ops.quote_name
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    head = f"INSERT INTO {q(model._meta.db_table)} ({', '.join(q(f.column) for f in fields)}) VALUES "  # noqa: S608
    tail = f" RETURNING {q(model._meta.pk.column)}" if returning else ""
    with connection.cursor() as cur:
        for start in range(0, len(objs), size):
            chunk = objs[start : start + size]
            params = [f.get_db_prep_save(getattr(o, f.attname), connection) for o in chunk for f in fields]
            cur.execute(head + ", ".join([row] * len(chunk)) + tail, params)
            if returning:
                for o, (pk,) in zip(chunk, cur.fetchall(), strict=True):
                    o.pk = pk
                    o._state.adding = False
