"""Reads of the customer archive, always starting from the user's scope."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet

from yixiang.accounts.models import User
from yixiang.accounts.scoping import visible_customers
from yixiang.customers import rules
from yixiang.customers.models import Customer, CustomerChange, Tag


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


def search_condition(q: str) -> Q:
    q = q.strip()
    if not q:
        return Q()
    how = rules.classify_query(q)
    if how == "phone":
        digits = re.sub(r"\D", "", q)
        return Q(phone_normalized__contains=digits) | Q(archive_no__icontains=digits)
    if how == "pinyin":
        key = q.lower()
        return (
            Q(name_initials__startswith=key)
            | Q(name_pinyin__startswith=key)
            | Q(name_pinyin__contains=key)
            | Q(name__icontains=q)
            | Q(company_name__icontains=q)
            | Q(archive_no__icontains=q)
        )
    return (
        Q(name__icontains=q)
        | Q(company_name__icontains=q)
        | Q(tags__name=q)
        | Q(archive_no__icontains=q)
        | Q(contacts__name__icontains=q)
    )


def customer_list(*, fetched_by: User, filters: CustomerFilters | None = None) -> QuerySet[Customer]:
    f = filters or CustomerFilters()
    if f.deleted:
        qs = visible_customers(fetched_by, include_deleted=True).filter(deleted_at__isnull=False)
    else:
        qs = visible_customers(fetched_by)
    if f.q:
        cond = search_condition(f.q)
        qs = qs.filter(cond)
        if rules.classify_query(f.q) == "text":
            qs = qs.distinct()  # joins through tags / contacts can repeat a row
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
    return (
        qs.select_related("owner", "region")
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.only("id", "name")))
        .order_by("-updated_at", "-id")
    )


def customer_history(*, customer: Customer, limit: int = 100) -> QuerySet[CustomerChange]:
    return customer.changes.select_related("actor")[:limit]


def all_tags() -> QuerySet[Tag]:
    return Tag.objects.all()
