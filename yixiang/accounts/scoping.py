"""The one place that decides what a user may see and change.

rep: own customers + the public pool; lead: the team's + pool; director: the region's + pool;
admin: everything. Every selector, view, API route, export and report starts from here.
Objects outside the scope are "not found" (404), never "forbidden", so existence does not leak.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.http import Http404

from yixiang.accounts.models import Role, User

if TYPE_CHECKING:
    from yixiang.customers.models import Customer


def staff_in_scope(user: User) -> QuerySet[User]:
    """The staff whose work this user may see (themself included)."""
    qs = User.objects.filter(is_active=True)
    if user.is_admin_role:
        return qs
    if user.role == Role.DIRECTOR:
        if user.region_id is None:
            return qs.filter(pk=user.pk)
        return qs.filter(Q(team__region_id=user.region_id) | Q(region_id=user.region_id))
    if user.role == Role.LEAD:
        if user.team_id is None:
            return qs.filter(pk=user.pk)
        return qs.filter(team_id=user.team_id)
    return qs.filter(pk=user.pk)


def owner_filter(user: User, prefix: str = "") -> Q:
    """Q over an owner field (``prefix`` + ``owner``) for records owned inside the user's scope.

    Used for customers and for anything hanging off an owner (follow-ups, contracts …)."""
    owner = f"{prefix}owner"
    if user.is_admin_role:
        return Q()
    if user.role == Role.DIRECTOR and user.region_id:
        return Q(**{f"{owner}__team__region_id": user.region_id}) | Q(**{f"{owner}__region_id": user.region_id})
    if user.role == Role.LEAD and user.team_id:
        return Q(**{f"{owner}__team_id": user.team_id})
    return Q(**{f"{owner}_id": user.pk})


def visible_customers(user: User, *, include_pool: bool = True, include_deleted: bool = False) -> QuerySet[Customer]:
    """Customers the user may see: owned in scope, plus the public pool."""
    from yixiang.customers.models import Customer

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


def can_assign_to(user: User, target: User) -> bool:
    """Whether ``user`` may make ``target`` the owner of a customer."""
    return staff_in_scope(user).filter(pk=target.pk).exists()


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
