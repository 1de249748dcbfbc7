"""The administrator's back office: staff, teams, regions; permission changes are audited."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from yixiang.accounts.models import (
    ApiToken,
    AuditAction,
    AuditEvent,
    Region,
    Team,
    User,
    WebhookDelivery,
    WebhookEndpoint,
)
from yixiang.accounts.services import audit

# Changes to these fields change what a person may see or do.
PERMISSION_FIELDS = ("role", "team_id", "region_id", "can_unmask", "is_active", "is_staff", "is_superuser")

admin.site.site_header = _("Yixiang administration")
admin.site.site_title = _("Yixiang")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = (
        "username",
        "display_name",
        "role",
        "team",
        "region",
        "on_probation",
        "probation_until",
        "hire_date",
        "is_active",
    )
    list_filter = ("role", "team", "region", "on_probation", "is_active")
    search_fields = ("username", "display_name", "phone")
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (_("Sales organisation"), {"fields": ("display_name", "phone", "role", "team", "region", "hire_date",
                                              "on_probation", "probation_until", "can_unmask")}),
    )  # fmt: skip
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        (
            _("Sales organisation"),
            {"fields": ("display_name", "role", "team", "region", "hire_date", "on_probation", "probation_until")},
        ),
    )

    def save_model(self, request, obj, form, change):
        before = {}
        if change:
            old = User.objects.get(pk=obj.pk)
            before = {f: getattr(old, f) for f in PERMISSION_FIELDS}
        if obj.team_id and obj.role != "director":
            obj.region_id = obj.team.region_id  # reps and leads belong to their team's region
        super().save_model(request, obj, form, change)
        after = {f: getattr(obj, f) for f in PERMISSION_FIELDS}
        diff = {f: [before.get(f), after[f]] for f in PERMISSION_FIELDS if before.get(f) != after[f]}
        if diff:
            audit(request.user, AuditAction.USER_PERMISSIONS, target_type="user", target_id=str(obj.pk), changes=diff)


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    search_fields = ("name",)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "region")
    list_filter = ("region",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("user", "name", "prefix", "key_hash", "created_at", "last_used_at")
    list_filter = ("revoked_at",)

    def has_add_permission(self, request):
        return False  # tokens are created by their owner (account page or API)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("at", "actor", "action", "target_type", "target_id")
    list_filter = ("action",)
    search_fields = ("action", "target_id", "actor__username")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class _ReadOnly(admin.ModelAdmin):
    """Seen here, changed through the API (/api/v1/webhooks), whose writes are audited."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(_ReadOnly):
    list_display = ("url", "events", "is_active", "disabled_reason", "updated_at")
    list_filter = ("is_active",)
    exclude = ("secret",)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(_ReadOnly):
    """The delivery log: what was sent where, how it went and when it is tried next."""

    list_display = ("created_at", "event", "endpoint", "status", "attempts", "response_status", "next_attempt_at",
                    "error")  # fmt: skip
    list_filter = ("status", "event", "endpoint")
    search_fields = ("uuid", "event", "error")
    list_select_related = ("endpoint",)
