"""Writes of the organisation (regions, teams, staff) for the API: administrators only, audited.

The admin site (accounts/admin.py) does the same by hand; both keep reps' and leads' region equal to
their team's region, and both leave an audit row for permission-relevant changes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yixiang.accounts.models import ApiToken, AuditAction, Region, Role, Team, User
from yixiang.accounts.services import audit
from yixiang.errors import Conflict, DomainError, ValidationFailed

# The staff fields the API may set (username and password only on creation).
STAFF_FIELDS = ("display_name", "phone", "email", "role", "team_id", "region_id", "hire_date", "on_probation",
                "probation_until", "can_unmask", "is_active")  # fmt: skip
# Changes to these fields change what a person may see or do (same list as the admin site).
PERMISSION_FIELDS = ("role", "team_id", "region_id", "can_unmask", "is_active")


def require_admin(actor: User) -> None:
    """Organisation changes are an administrator's; anyone else gets the shared 403."""
    if not actor.is_admin_role:
        raise DomainError(_("Only an administrator may do this."), code="forbidden")


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed({"name": [_("The name is required.")]})
    return name[:100]


@transaction.atomic
def region_save(*, actor: User, name: str, region: Region | None = None) -> Region:
    require_admin(actor)
    name = _clean_name(name)
    if Region.objects.filter(name=name).exclude(pk=region.pk if region else None).exists():
        raise Conflict(_("A region named %(name)s already exists.") % {"name": name}, field="name")
    before = region.name if region else None
    region = region or Region()
    region.name = name
    region.save()
    audit(actor, AuditAction.ORG_REGION_SAVE, target=region, name=[before, name])
    return region


@transaction.atomic
def team_save(*, actor: User, name: str, region: Region, team: Team | None = None) -> Team:
    """Create or rename/move a team; its reps and leads follow it into the new region."""
    require_admin(actor)
    name = _clean_name(name)
    if Team.objects.filter(name=name, region=region).exclude(pk=team.pk if team else None).exists():
        raise Conflict(_("Region %(region)s already has a team named %(name)s.") % {"region": region, "name": name})
    before = (team.name, team.region_id) if team else (None, None)
    team = team or Team()
    team.name, team.region = name, region
    team.save()
    if before[1] is not None and before[1] != region.pk:
        team.members.exclude(role=Role.DIRECTOR).update(region=region)
    audit(actor, AuditAction.ORG_TEAM_SAVE, target=team, name=[before[0], name], region_id=[before[1], region.pk])
    return team


def _check_staff(data: Mapping[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    role = data.get("role")
    if role is not None and role not in Role.values:
        errors["role"] = [_("Choose a role: %(roles)s.") % {"roles": ", ".join(Role.values)}]
    team_id, region_id = data.get("team_id"), data.get("region_id")
    if team_id is not None and not Team.objects.filter(pk=team_id).exists():
        errors["team_id"] = [_("Unknown team.")]
    if region_id is not None and not Region.objects.filter(pk=region_id).exists():
        errors["region_id"] = [_("Unknown region.")]
    hired, until = data.get("hire_date"), data.get("probation_until")
    if hired is not None and until is not None and until < hired:
        errors["probation_until"] = [_("Probation cannot end before the hire date.")]
    return errors


@transaction.atomic
def staff_create(*, actor: User, username: str, password: str, data: Mapping[str, Any]) -> User:
    require_admin(actor)
    username = (username or "").strip()
    errors = _check_staff(data)
    if not username:
        errors["username"] = [_("The user name is required.")]
    if len(password or "") < 8:
        errors["password"] = [_("The password has at least 8 characters.")]
    if errors:
        raise ValidationFailed(errors)
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict(_("The user name %(name)s is taken.") % {"name": username}, field="username")
    user = User(username=username)
    user.set_password(password)
    try:
        with transaction.atomic():
            return _apply(actor, user, data, created=True)
    except IntegrityError:
        raise Conflict(_("The user name %(name)s is taken.") % {"name": username}, field="username") from None


@transaction.atomic
def staff_update(*, actor: User, user: User, data: Mapping[str, Any]) -> User:
    require_admin(actor)
    errors = _check_staff(data)
    if errors:
        raise ValidationFailed(errors)
    if user.pk == actor.pk and (data.get("is_active") is False or data.get("role", Role.ADMIN) != Role.ADMIN):
        # An administrator cannot lock themselves out through the API.
        raise DomainError(_("You cannot deactivate yourself or take away your own administrator role."))
    return _apply(actor, User.objects.select_for_update(no_key=True).get(pk=user.pk), data, created=False)


@transaction.atomic
def staff_deactivate(*, actor: User, user: User) -> User:
    """Deactivate: login and every API token stop working at once (the token check requires is_active);
    open tokens are also revoked so that reactivating does not revive them."""
    user = staff_update(actor=actor, user=user, data={"is_active": False})
    ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    return user


def _apply(actor: User, user: User, data: Mapping[str, Any], *, created: bool) -> User:
    before = {f: getattr(user, f) for f in PERMISSION_FIELDS} if not created else {}
    for field in STAFF_FIELDS:
        if field in data:
            setattr(user, field, data[field])
    if user.team_id and user.role != Role.DIRECTOR:
        # Reps and leads belong to their team's region (as in the admin site).
        user.region_id = Team.objects.values_list("region_id", flat=True).get(pk=user.team_id)
    if user.role == Role.ADMIN:
        user.is_staff = True  # administrators use the admin site too
    user.save()
    after = {f: getattr(user, f) for f in PERMISSION_FIELDS}
    diff = {f: [before.get(f), after[f]] for f in PERMISSION_FIELDS if before.get(f) != after[f]}
    other = {f: str(data[f]) for f in STAFF_FIELDS if f in data and f not in PERMISSION_FIELDS}
    audit(
        actor, AuditAction.USER_CREATE if created else AuditAction.USER_UPDATE, target=user, changes=diff, fields=other
    )
    if diff and not created:
        audit(actor, AuditAction.USER_PERMISSIONS, target=user, changes=diff)
    return user
