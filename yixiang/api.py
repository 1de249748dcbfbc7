"""The REST API under /api/v1/: token auth, one router per app, domain errors as clear 4xx."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer

from yixiang.accounts.models import ApiToken
from yixiang.errors import DomainError, ValidationFailed
from yixiang.pipeline.selectors import agenda_version_columns

log = logging.getLogger(__name__)


class TokenAuth(HttpBearer):
    """`Authorization: Bearer <token>`; tokens are stored hashed and can be revoked."""

    def authenticate(self, request: HttpRequest, token: str):
        # key_hash is unique: a bare LIMIT 1, without the ORDER BY that .first() adds (every request).
        # The agenda's cache counters come in the same query (two primary-key subqueries): a cached
        # agenda then costs this query only.
        rows = (
            ApiToken.objects.select_related("user", "user__team")
            .filter(key_hash=ApiToken.hash(token), revoked_at__isnull=True, user__is_active=True)
            .annotate(**agenda_version_columns("user_id"))
            .order_by()[:1]
        )
        row = next(iter(rows), None)
        if row is None:
            return None
        row.user.agenda_versions = (row.agenda_v, row.agenda_g)
        now = timezone.now()
        # Touch last_used at most once a minute so reads stay reads.
        if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
        request.user = row.user
        return row.user


api = NinjaAPI(
    title="Yixiang API",
    version="1",
    description="意向 CRM. Get a token with POST /api/v1/auth/token, then send `Authorization: Bearer <token>`.",
    auth=TokenAuth(),
    urls_namespace="api",
    docs_url="/docs",
)


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    body: dict = {"detail": exc.message, "code": exc.code}
    if exc.field:
        body["field"] = exc.field
    if isinstance(exc, ValidationFailed):
        body["errors"] = exc.errors
    body.update(exc.extra)
    status = 403 if exc.code == "forbidden" else exc.status
    return api.create_response(request, body, status=status)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"detail": _("Not found."), "code": "not_found"}, status=404)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request,
        {"detail": _("Authentication required: send a valid Bearer token."), "code": "unauthorized"},
        status=401,
    )


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return api.create_response(
        request, {"detail": _("The request is not valid."), "code": "invalid", "errors": exc.errors}, status=422
    )


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # Ninja raises HttpError(400) for a body that is not JSON; its own reply has no code.
    if exc.status_code == 400:
        body = {"detail": _("The request body is not valid JSON."), "code": "malformed"}
    else:
        body = {"detail": str(exc.message), "code": "error"}
    return api.create_response(request, body, status=exc.status_code)


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0
    return api.create_response(
        request,
        {
            "detail": _("The request body is too large: at most %(mb)s MB.") % {"mb": round(limit / 2**20, 1)},
            "code": "too_large",
        },
        status=413,
    )


@api.exception_handler(OverflowError)
@api.exception_handler(DataError)
def _out_of_range(request: HttpRequest, exc: Exception) -> HttpResponse:
    # An id past 2**63 or a date at the calendar's edge (0001-01-01 in UTC) fits the schema but not
    # the database or datetime: the request is at fault, so 400 and not 500. Logged to stay visible.
    log.warning("API input out of range on %s: %s", request.path, exc)
    return api.create_response(
        request, {"detail": _("A number or date in the request is out of range."), "code": "out_of_range"}, status=400
    )


def _register_routers() -> None:
    from yixiang.accounts.api import router as accounts_router
    from yixiang.customers.api import router as customers_router

    api.add_router("/auth", accounts_router)
    api.add_router("/customers", customers_router)
    # Later apps add their routers here (pipeline, aftercare, incentives, reports).
    # J (issue 16): the organisation, money, history, import-job and scheme routes are modules of their own.
    modules = (
        "accounts.api_org",
        "customers.api_io",
        "customers.api_history",
        "customers.api_import",
        "pipeline.api",
        "pipeline.api_prospecting",
        "aftercare.api",
        "aftercare.api_money",
        "aftercare.api_care",
        "aftercare.api_panel",
        "aftercare.api_events",
        "incentives.api",
        "incentives.api_schemes",
        "reports.api",
    )
    for module in modules:
        try:
            mod = __import__(f"yixiang.{module}", fromlist=["routers"])
        except ModuleNotFoundError as exc:
            if exc.name != f"yixiang.{module}":
                raise
            continue
        for prefix, router in getattr(mod, "routers", []):
            api.add_router(prefix, router)


_register_routers()
