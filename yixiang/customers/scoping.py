"""Which customers a user may see and change, built on the staff scope of ``accounts.scoping``.

Every selector, view, API route, export and report starts from here. Objects outside the scope
are "not found" (404), never "forbidden", so existence does not leak.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from yixiang.accounts.models import Role, User
from yixiang.accounts.scoping import owner_filter
from yixiang.customers.models import Customer


def visible_customers(user: User, *, include_pool: bool = True, include_deleted: bool = False) -> QuerySet[Customer]:
    """Customers the user may see: owned in scope, plus the public pool."""
    if not user.is_authenticated or not user.is_active:
        return Customer.objects.none()
    qs = Customer.objects.all()
    if not include_deleted:
        qs = qs.filter(deleted_at__isnull=True)
    if user.is_admin_role:
        return qs
    cond = owner_filter(user)
    if include_pool:
        cond |= Q(owner__isnull=True)
    return qs.filter(cond)


def editable_customers(user: User, *, include_deleted: bool = False) -> QuerySet[Customer]:
    """Customers the user may change: owned in scope (pool customers must be claimed first)."""
    return visible_customers(user, include_pool=user.is_admin_role, include_deleted=include_deleted)


def access_customer(
    user: User,
    customer_id: int,
    *,
    for_change: bool = False,
    include_deleted: bool = False,
    select_related: tuple[str, ...] = (),
) -> Customer:
    """The customer if the user may see (or change) it, else Http404 — the same for "absent".
    ``select_related`` joins relations the caller shows (owner, region) into the same query."""
    qs = (
        editable_customers(user, include_deleted=include_deleted)
        if for_change
        else visible_customers(user, include_deleted=include_deleted)
    )
    if select_related:
        qs = qs.select_related(*select_related)
    try:
        return qs.get(pk=customer_id)
    except (qs.model.DoesNotExist, ValueError, TypeError):
        raise Http404("customer not found") from None


def may_change_customer(user: User, customer: Customer, *, include_deleted: bool = False) -> bool:
    """Whether ``customer`` (a row already loaded) is among ``editable_customers(user)``. The row
    itself answers for admins, pool customers and the user's own or a rep's; a lead or director
    looking at a colleague's customer asks the database (the owner's team decides)."""
    if not user.is_authenticated or not user.is_active:
        return False
    if customer.deleted_at is not None and not include_deleted:
        return False
    if user.is_admin_role:
        return True
    if customer.owner_id is None:
        return False
    if customer.owner_id == user.pk:
        return True
    if user.role not in (Role.LEAD, Role.DIRECTOR):
        return False
    return editable_customers(user, include_deleted=include_deleted).filter(pk=customer.pk).exists()
