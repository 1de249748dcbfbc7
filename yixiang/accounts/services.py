"""Writes for staff and tokens."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from yixiang.accounts.models import ApiToken, AuditAction, AuditEvent, User


@transaction.atomic
def api_token_create(*, user: User, name: str = "api") -> str:
    """Create a token and return the raw value (shown once; only its hash is kept)."""
    raw = ApiToken.new_raw()
    ApiToken.objects.create(user=user, name=name, key_hash=ApiToken.hash(raw), prefix=raw[3:9])
    audit(user, AuditAction.TOKEN_CREATE, target=user)
    return raw


@transaction.atomic
def api_token_revoke(*, user: User, token_id: int) -> bool:
    updated = ApiToken.objects.filter(pk=token_id, user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if updated:
        audit(user, AuditAction.TOKEN_REVOKE, target_type="token", target_id=str(token_id))
    return bool(updated)


def audit(
    actor: User | None,
    action: AuditAction,
    *,
    target: Any = None,
    target_type: str = "",
    target_id: str = "",
    **detail: Any,
) -> None:
    """The one way to leave an audit row. ``target`` (a model row) names the target by its class and
    pk, or ``target_type``/``target_id`` name it outright; the keywords left are the detail."""
    if target is not None:
        target_type = target_type or type(target).__name__.lower()
        target_id = target_id or str(getattr(target, "pk", target))
    AuditEvent.objects.create(
        actor=actor, action=AuditAction(action), target_type=target_type, target_id=target_id, detail=detail
    )


@transaction.atomic
def user_change_password(*, user: User, new_password: str) -> int:
    """Set a new password (already validated by the caller's form) and leave an audit row.
    The user's API tokens issued before are revoked (User.save does it on every password change);
    returns how many."""
    user.set_password(new_password)
    user.save(update_fields=["password"])
    audit(user, AuditAction.PASSWORD_CHANGE, target=user, tokens_revoked=getattr(user, "tokens_revoked", 0))
    return getattr(user, "tokens_revoked", 0)
