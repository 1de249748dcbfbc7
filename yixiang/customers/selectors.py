"""Reads of the customer archive, always starting from the user's scope."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import DateTimeField, Exists, ExpressionWrapper, F, Lookup, OuterRef, Prefetch, Q, QuerySet, Value
from django.db.models.expressions import RawSQL
from django.db.models.lookups import Exact, GreaterThanOrEqual, In, LessThan
from django.utils import timezone

from yixiang.accounts.models import User
from yixiang.accounts.scoping import owner_filter
from yixiang.customers import rules
from yixiang.customers.models import PHONE_TAIL, ContactPerson, Customer, CustomerChange, PhoneTail, Tag
from yixiang.customers.scoping import visible_customers


@dataclass
class CustomerFilters:
    q: str = ""
    stage: int | None = None
    grade: str = ""
    tag: str = ""
    owner: str = ""  # "", "mine", "pool", or a user id
    kind: str = ""
    source: str = ""
    region: int | None = None
    value_tier: str = ""
    deleted: bool = False  # the trash: soft-deleted customers only
    due: str = ""  # "", "overdue" (next contact before today) or "today"
    # The customers behind a manager's figure (issue 14): what rep ``by`` did between since..until.
    did: str = ""  # one of ACTIVITY_KINDS
    by: int | None = None
    since: dt.date | None = None
    until: dt.date | None = None


# What a team-review figure counts, as a filter on the customers behind it. Rises exclude signings,
# as in the review (yixiang.pipeline.selectors.team_review); "hot" are the stage-3/4 judgments.
ACTIVITY_KINDS = ("followup", "effective", "rise", "drop", "signed", "hot", "moved")
SIGNED_STAGE = 5


def _activity_filter(qs: QuerySet[Customer], f: CustomerFilters) -> QuerySet[Customer]:
    """Narrow to the customers rep ``f.by`` followed up or moved in the period (inclusive days)."""
    if f.did not in ACTIVITY_KINDS or f.by is None:
        return qs
    until = f.until or timezone.localdate()
    since = f.since or until - dt.timedelta(days=6)
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(since, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    if f.did in ("followup", "effective"):
        cond = Q(follow_ups__rep_id=f.by, follow_ups__at__gte=start, follow_ups__at__lt=end)
        if f.did == "effective":
            cond &= Q(follow_ups__effective=True)
    else:
        cond = Q(stage_changes__owner_id=f.by, stage_changes__at__gte=start, stage_changes__at__lt=end)
        kind = {
            "rise": Q(stage_changes__to_stage__gt=F("stage_changes__from_stage"))
            & Q(stage_changes__to_stage__lt=SIGNED_STAGE),
            "drop": Q(stage_changes__to_stage__lt=F("stage_changes__from_stage")),
            "signed": Q(stage_changes__to_stage=SIGNED_STAGE),
            "hot": Q(stage_changes__to_stage__in=(3, 4), stage_changes__to_stage__gt=F("stage_changes__from_stage")),
            "moved": Q(),
        }[f.did]
        cond &= kind
    # A subquery, not a join: the list pages merge ordered branches and must not see duplicates.
    return qs.filter(pk__in=Customer.objects.filter(cond).values("pk"))


# Search (issue 7: a rep searches ~780,000 visible customers at 1M). Every kind of query becomes a
# few *terms*, each one answered by an index; no term scans the table:
#   3 or 4 digits       the end of the phone number (尾号: 5678, 678) via customer_phone_tail
#   digits (≥ 5)        phone number substring (middle digits 12345, 1381234 …) via the trigram index
#   letters             pinyin initials or full pinyin from the start (zw, mjg, zhangw), and for
#                       ≥ 3 letters a substring of the name or company (Latin names, "IBM")
#   letters + digits    an archive number from its start (KH20260001…, ≥ 8 digits)
#   anything else       name, company or contact person from the start (张 → every 张, 张伟 → 张伟,
#                       张伟明), an exact tag, and for ≥ 3 characters a substring of the name or
#                       company (a given name 小明, a company's middle word 科技有限)
# One or two characters inside a name (伟 for 张伟) are not matched: trigrams need three, and a
# one-character substring would hit a large share of a million names anyway. Nor are 3 or 4 digits
# inside a phone number (issue 17): they matched ~600–3,000 of a million numbers, every one read
# from the table (p95 111 ms at 1M on PostgreSQL), for a query that almost always means the end.
SUBSTRING_MIN = 3
COUNT_CAP = 1000  # lists and searches count up to here and then say "1000+"
# An archive number from its start, with at least 8 digits (KH2026 + 2 of the sequence): a bare
# year prefix (KH2026) would match a whole year's archives and sort them all.
_ARCHIVE = re.compile(r"[A-Za-z]+\d{8,}")
_FTS_IDS = "SELECT rowid FROM customers_customer_fts WHERE customers_customer_fts MATCH %s"


class _Likely:
    """A bound that tells SQLite's planner it is selective (likelihood): its statistics otherwise
    rate ``deleted_at IS NULL`` on customer_deleted_owner as ~800 rows (the average over distinct
    deletion times) and it walks every live row instead of the prefix range."""

    def as_sqlite(self, compiler, connection):  # type: ignore[no-untyped-def]
        sql, params = self.as_sql(compiler, connection)  # type: ignore[attr-defined]
        return f"likelihood({sql}, 0.001)", params


class _From(_Likely, GreaterThanOrEqual):
    pass


class _Before(_Likely, LessThan):
    pass


def _prefix(field: str, key: str) -> Q:
    """``field`` starts with ``key`` as an index range (LIKE cannot use a plain index on SQLite,
    nor on PostgreSQL outside the C collation)."""
    return Q(_From(F(field), key), _Before(F(field), key[:-1] + chr(ord(key[-1]) + 1)))


def _phone_tail(digits: str) -> Q:
    """The phone number ends with ``digits`` (3 or 4), from customer_phone_tail: 3 digits are the
    ten 4-digit tails that end with them."""
    if len(digits) == PHONE_TAIL:
        return Q(Exact(PhoneTail(), digits))
    return Q(In(PhoneTail(), [d + digits for d in "0123456789"]))


def _substring(columns: tuple[str, ...], text: str) -> Q:
    """Any of ``columns`` contains ``text`` (≥ 3 characters), through the trigram index."""
    if connection.vendor == "sqlite":
        phrase = '"' + text.replace('"', '""') + '"'
        match = "{" + " ".join(columns) + "} : " + phrase
        return Q(pk__in=RawSQL(_FTS_IDS, [match]))  # noqa: S611 (a constant with a parameter)
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    cond = Q()
    for column in columns:
        cond |= Q(ILike(F(column), Value(pattern)))
    return cond


class ILike(Lookup):
    """``col ILIKE pattern`` on PostgreSQL: pg_trgm's GIN index serves it (Django's icontains
    wraps the column in UPPER(), which the index cannot serve). LIKE elsewhere."""

    lookup_name = "yx_ilike"

    def as_sql(self, compiler, connection):  # type: ignore[override]
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        op = "ILIKE" if connection.vendor == "postgresql" else "LIKE"
        return f"{lhs} {op} {rhs}", [*lhs_params, *rhs_params]


def search_terms(q: str) -> list[Q]:
    """The index-backed conditions whose union is the search for ``q`` (see above)."""
    q = q.strip()
    if not q:
        return []
    how = rules.classify_query(q)
    if how == "phone":
        digits = re.sub(r"\D", "", q)
        if len(digits) < SUBSTRING_MIN:
            return []
        if len(digits) <= PHONE_TAIL:
            return [_phone_tail(digits)]
        return [_substring(("phone_normalized",), digits)]
    if how == "pinyin":
        key = re.sub(r"[\s\-+]", "", q).lower()
        terms = [_prefix("name_initials", key), _prefix("name_pinyin", key)]
        if len(key) >= SUBSTRING_MIN:
            terms.append(_substring(("name", "company_name"), q))
        return terms
    if _ARCHIVE.fullmatch(q):
        return [_prefix("archive_no", q.upper())]
    terms = [
        _prefix("name", q),
        _prefix("company_name", q),
        Q(pk__in=ContactPerson.objects.filter(_prefix("name", q)).values("customer_id")),
        Q(pk__in=Customer.tags.through.objects.filter(tag__name=q).values("customer_id")),
    ]
    if len(q) >= SUBSTRING_MIN:
        terms.append(_substring(("name", "company_name"), q))
    return terms


def search_condition(q: str) -> Q:
    """One condition for the search (for exports and small lists); pages use CustomerResults."""
    if not q.strip():
        return Q()
    terms = search_terms(q)
    if not terms:
        return Q(pk__in=[])
    cond = Q()
    for term in terms:
        cond |= term
    return cond


class CustomerResults:
    """A page-able customer list or search that never reads more than it shows.

    Pages: the ids of the page first, then those rows with their owner, region and tags. The ids
    come from one statement uniting a few indexed *branches* (each search term; without a search,
    the user's own customers and the pool separately, because one index walk over "owner = me OR
    pool" ordered by updated_at wades through everybody else's recent work first), each cut to
    the page's end before they are united. Count: up to ``cap`` and then ``capped`` (a full COUNT
    over ~780,000 visible rows would cost more than the page). Django's Paginator takes it as its
    object list."""

    ordered = True

    def __init__(self, base: QuerySet[Customer], branches: list[QuerySet[Customer]], *, search: bool) -> None:
        self.base = base.order_by()
        self.branches = branches
        self.search = search
        self.capped = False

    def _merged(self, parts: list[QuerySet[Customer]], limit: int, *fields: str, in_order: bool = True) -> QuerySet:
        """The union of ``parts``, each cut to its first ``limit`` rows by the list order, as
        ``fields``: one statement. PostgreSQL takes limited parts in a UNION; SQLite does not,
        but takes them as ``id IN (…)`` subqueries (rowid lookups; PostgreSQL would scan).

        ``in_order=False`` (the capped count): any ``limit`` rows of each part, so a part with many
        matches stops at the cap instead of reading and sorting all of them."""
        if not in_order:
            parts = [p.order_by() for p in parts]
            if len(parts) == 1:
                return parts[0].values_list(*fields)
            if connection.vendor == "postgresql":
                cut = [p.values_list(*fields)[:limit] for p in parts]
                return cut[0].union(*cut[1:])
            cond = Q()
            for p in parts:
                cond |= Q(pk__in=p.values("pk")[:limit])
            return Customer.objects.filter(cond).values_list(*fields)
        ordered = [p.order_by("-updated_at", "-pk") for p in parts]
        if connection.vendor == "postgresql" and self.search:
            # Ordered by an expression no index provides: otherwise PostgreSQL, seeing the
            # LIMIT, walks customer_live_recent filtering row by row (a contact or tag term
            # then reads every visible customer; a phone fragment, whose trigram estimate is
            # ten times its real matches, ~200,000 rows at 1M: 1.5–6 s) instead of taking the
            # term's own index and sorting its matches.
            ordered = [
                p.alias(_at=ExpressionWrapper(F("updated_at") + Value(dt.timedelta(0)), DateTimeField())).order_by(
                    "-_at", "-pk"
                )
                for p in parts
            ]
        if len(ordered) == 1:
            return ordered[0].values_list(*fields)  # in order; the caller's slice is the limit
        if connection.vendor == "postgresql":
            cut = [p.values_list(*fields)[:limit] for p in ordered]
            return cut[0].union(*cut[1:])
        cond = Q()
        for p in ordered:
            cond |= Q(pk__in=p.values("pk")[:limit])
        return Customer.objects.filter(cond).values_list(*fields)

    def count(self, cap: int | None = None) -> int:
        cap = COUNT_CAP if cap is None else cap
        if not self.branches:
            n = 0
        elif self.search:
            n = self._merged(self.branches, cap + 1, "pk", in_order=False)[: cap + 1].count()
        else:
            n = self.base.values("pk")[: cap + 1].count()
        self.capped = n > cap
        return min(n, cap)

    def __len__(self) -> int:
        return self.count()

    def _page_ids(self, start: int, stop: int) -> list[int]:
        if stop <= start or not self.branches:
            return []
        keys = self._merged(self.branches, stop, "updated_at", "pk")
        if len(self.branches) > 1:  # a union: order its rows (one part comes in order already)
            keys = keys.order_by("-updated_at", "-pk")
        return [pk for _, pk in keys[start:stop]]

    def __getitem__(self, page: slice) -> list[Customer]:
        """The web list's page: customers with only the columns the list shows (LIST_COLUMNS),
        their owner's name and ``tag_names`` (not the ~40 columns nor the decrypted bank card)."""
        if not isinstance(page, slice) or page.step not in (None, 1):
            raise TypeError("CustomerResults takes a plain slice")
        start, stop = page.start or 0, page.stop
        ids = self._page_ids(start, stop) if stop is not None else []
        if not ids:
            return []
        rows = (
            Customer.objects.filter(pk__in=ids)
            .select_related("owner")
            .only(*LIST_COLUMNS, "owner__username", "owner__display_name")
            .in_bulk()
        )
        tags = tag_names(ids)
        out = []
        for pk in ids:
            if pk in rows:
                c = rows[pk]
                c.tag_names = tags.get(pk, [])
                out.append(c)
        return out

    def rows(self, start: int, stop: int, fields: tuple[str, ...]) -> list[dict[str, Any]]:
        """Rows ``start:stop`` as plain dicts of ``fields`` (``values()`` names, "id" first) plus
        "tags" (names in name order): what the API renders, without building model instances."""
        ids = self._page_ids(start, stop)
        if not ids:
            return []
        by_pk = {r["id"]: r for r in Customer.objects.filter(pk__in=ids).order_by().values(*fields)}
        tags = tag_names(ids)
        out = []
        for pk in ids:
            r = by_pk.get(pk)
            if r is not None:
                r["tags"] = tags.get(pk, [])
                out.append(r)
        return out


# What the web list (customers/_results.html) shows of a customer.
LIST_COLUMNS = (
    "id",
    "name",
    "archive_no",
    "company_name",
    "stage",
    "grade",
    "phone",
    "phone_normalized",
    "owner",
    "next_due_on",
    "deleted_at",
    "updated_at",
)


def tag_names(ids: list[int]) -> dict[int, list[str]]:
    """Tag names per customer (in name order, as Tag's ordering gives them), one query."""
    out: dict[int, list[str]] = {}
    through = Customer.tags.through.objects.filter(customer_id__in=ids).order_by("tag__name")
    for customer_id, name in through.values_list("customer_id", "tag__name"):
        out.setdefault(customer_id, []).append(name)
    return out


def _scoped(fetched_by: User, f: CustomerFilters) -> QuerySet[Customer]:
    """The user's scope narrowed by every filter except the search text."""
    if f.deleted:
        qs = visible_customers(fetched_by, include_deleted=True).filter(deleted_at__isnull=False)
    else:
        qs = visible_customers(fetched_by)
    if f.stage is not None:
        qs = qs.filter(stage=f.stage)
    if f.grade:
        qs = qs.filter(grade=f.grade)
    if f.tag:
        qs = qs.filter(tags__name=f.tag)
    if f.owner == "mine":
        qs = qs.filter(owner=fetched_by)
    elif f.owner == "pool":
        qs = qs.filter(owner__isnull=True)
    elif f.owner.isdigit():
        qs = qs.filter(owner_id=int(f.owner))
    if f.kind:
        qs = qs.filter(kind=f.kind)
    if f.source:
        qs = qs.filter(source=f.source)
    if f.region:
        qs = qs.filter(region_id=f.region)
    if f.value_tier:
        qs = qs.filter(value_tier=f.value_tier)
    if f.due == "overdue":
        qs = qs.filter(next_due_on__lt=timezone.localdate())
    elif f.due == "today":
        qs = qs.filter(next_due_on=timezone.localdate())
    return _activity_filter(qs, f)


def customer_results(*, fetched_by: User, filters: CustomerFilters | None = None) -> CustomerResults:
    """The list / search pages (web list and API): ordered by last change, newest first."""
    f = filters or CustomerFilters()
    base = _scoped(fetched_by, f)
    if f.q.strip():
        branches = [base.filter(term) for term in search_terms(f.q)]
    elif fetched_by.is_admin_role or f.deleted:
        branches = [base]
    else:  # the two halves of visible_customers, each walked down its (owner, updated_at) index
        branches = [base.filter(owner_filter(fetched_by)), base.filter(owner__isnull=True)]
    return CustomerResults(base, branches, search=bool(f.q.strip()))


def customer_list(*, fetched_by: User, filters: CustomerFilters | None = None) -> QuerySet[Customer]:
    """Every matching customer as one queryset (exports); pages use customer_results."""
    f = filters or CustomerFilters()
    qs = _scoped(fetched_by, f)
    if f.q.strip():
        qs = qs.filter(search_condition(f.q))
    return (
        qs.select_related("owner", "region")
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.only("id", "name")))
        .order_by("-updated_at", "-id")
    )


def customer_history(*, customer: Customer, limit: int = 100) -> QuerySet[CustomerChange]:
    # Owner changes are the pipeline's OwnerChange rows; the "owner" rows written before are their twins.
    return customer.changes.exclude(action=CustomerChange.Action.OWNER).select_related("actor")[:limit]


def visible_tag_names(user: User) -> list[str]:
    """Tags in use on customers the user may see (tag names of other teams stay private)."""
    # Tag by tag (a handful), does one of its links point at a visible customer: a few index probes
    # per tag, where "customer IN (visible)" listed the ~80,000 visible customers on every list page.
    visible = visible_customers(user, include_deleted=True).filter(pk=OuterRef("customer_id"))
    links = Tag.customers.through.objects.filter(tag_id=OuterRef("pk")).filter(Exists(visible))
    return list(Tag.objects.filter(Exists(links)).order_by("name").values_list("name", flat=True))
