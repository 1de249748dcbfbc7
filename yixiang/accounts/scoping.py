"""The one place that decides whose work a user may see: staff in scope and the owner filter.

The customer querysets built on it (``visible_customers``, ``access_customer`` …) live one floor up
in ``yixiang.customers.scoping``, so accounts imports no app above it. Capabilities ("may do X")
are in ``permissions.py`` beside this module.

rep: own customers + the public pool; lead: the team's + pool; director: the region's + pool;
admin: everything. Every selector, view, API route, export and report starts from here.
Objects outside the scope are "not found" (404), never "forbidden", so existence does not leak.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from yixiang.accounts.models import Role, User


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


def can_assign_to(user: User, target: User) -> bool:
    """Whether ``user`` may make ``target`` the owner of a customer."""
    return staff_in_scope(user).filter(pk=target.pk).exists()
