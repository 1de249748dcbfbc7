"""What a role may do, beside ``scoping.py`` (what a role may see).

One home for the capability checks that services, views, forms and templates used to spell out
themselves (``user.role in (LEAD, DIRECTOR) or user.is_admin_role`` …). Scoping still decides which
rows; these decide which actions. Plain functions of the user (and the row's owner id where the
answer depends on it), so they are tested without the ORM.
"""

from __future__ import annotations

from django.db.models import QuerySet

from yixiang.accounts.models import Region, Role, User


def is_admin(user: User) -> bool:
    """Administrators (role or superuser): the incentive scheme, payouts, closing a month …"""
    return user.is_admin_role


def can_manage(user: User) -> bool:
    """Team leads, directors and administrators manage other people's customers: hand over,
    distribute leads, look at the team review."""
    return user.role in (Role.LEAD, Role.DIRECTOR) or user.is_admin_role


def may_assign_owner(user: User) -> bool:
    """Anyone but a rep may pick a customer's owner (a rep's new customers are their own)."""
    return not user.is_rep


def keeps_incentive_inputs(user: User) -> bool:
    """Directors (for their region) and administrators keep the monthly incentive inputs."""
    return user.is_admin_role or user.role == Role.DIRECTOR


def may_record_regional_event(user: User) -> bool:
    """Leads, directors and administrators record a regional customer event."""
    return can_manage(user)


def regional_event_regions(user: User) -> QuerySet[Region]:
    """The regions ``user`` may record a regional event for: all for administrators, else their own."""
    if user.is_admin_role:
        return Region.objects.all()
    region_id = user.region_id or (user.team.region_id if user.team_id else None)
    return Region.objects.filter(pk=region_id)


def may_launch_campaign(user: User, *, created_by_id: int | None) -> bool:
    """A campaign is launched by its author, or by an administrator."""
    return created_by_id == user.pk or user.is_admin_role
