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

from yixiang.accounts import api as accounts_api
from yixiang.accounts import api_org as accounts_org_api
from yixiang.accounts import api_webhooks as accounts_webhooks_api
from yixiang.accounts.models import ApiToken
from yixiang.aftercare import api as aftercare_api
from yixiang.aftercare import api_care as aftercare_care_api
from yixiang.aftercare import api_events as aftercare_events_api
from yixiang.aftercare import api_money as aftercare_money_api
from yixiang.aftercare import api_panel as aftercare_panel_api
from yixiang.customers import api as customers_api
from yixiang.customers import api_import as customers_import_api
from yixiang.customers import api_io as customers_io_api
from yixiang.errors import DomainError, ValidationFailed
from yixiang.incentives import api as incentives_api
from yixiang.incentives import api_schemes as incentives_schemes_api
from yixiang.pipeline import api as pipeline_api
from yixiang.pipeline import api_history as customers_history_api
from yixiang.pipeline import api_prospecting as pipeline_prospecting_api
from yixiang.reports import api as reports_api

log = logging.getLogger(__name__)


class TokenAuth(HttpBearer):
    """`Authorization: Bearer <token>`; tokens are stored hashed and can be revoked."""

    def authenticate(self, request: HttpRequest, token: str):
        # key_hash is unique: a bare LIMIT 1, without the ORDER BY that .first() adds (every request).
        rows = (
            ApiToken.objects.select_related("user", "user__team")
            .filter(key_hash=ApiToken.hash(token), revoked_at__isnull=True, user__is_active=True)
            .order_by()[:1]
        )
        row = next(iter(rows), None)
        if row is None:
            return None
        now = timezone.now()
        # Touch last_used at most once a minute so reads stay reads.
        if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
        request.user = row.user
        return row.user


# The 4xx every operation can answer, documented once for all (issue 12: "the OpenAPI schema is
# exact"): each handler here and the input gate answer {detail, code, ...}; an operation that
# declares its own schema for a status keeps it.
_ERROR_SCHEMA = {
    "title": "ApiError",
    "type": "object",
    "properties": {
        "detail": {"type": "string", "description": "What is wrong, in the caller's language."},
        "code": {"type": "string", "description": "A stable machine-readable code."},
        "field": {"type": "string"},
        "errors": {"description": "Per-field messages (a list for 422, a field → messages map for 400)."},
    },
    "required": ["detail", "code"],
}
_ERROR_TEXT = {
    400: "Refused: the request is not acceptable (bad JSON, bad text, a domain rule).",
    401: "No valid Bearer token.",
    403: "Not allowed for your role.",
    404: "Not found, or not visible to you.",
    409: "Conflicts with the current state (stale version, duplicate, already done).",
    413: "The request body is too large.",
    422: "A parameter or body field has the wrong type, format or range.",
}
_WRITES = {"post", "put", "patch", "delete"}


def error_statuses(method: str, operation: dict) -> list[int]:
    """The 4xx an operation can answer, from what it takes: every one can be refused (400) or
    forbidden (403); a token is needed unless the operation is public; ids it takes may be
    unknown (404); parameters and bodies may be invalid (422); writes may conflict (409) and
    bodies may be too large (413)."""
    statuses = [400, 403]
    if operation.get("security"):
        statuses.append(401)
    if operation.get("parameters") or "requestBody" in operation:
        # Ids in the path, the query (?rep=, ?team=) or the body may be unknown or out of sight.
        statuses += [404, 422]
    if method in _WRITES:
        statuses.append(409)
    if "requestBody" in operation:
        statuses.append(413)
    return sorted(statuses)


class YixiangAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        schema.setdefault("components", {}).setdefault("schemas", {})["ApiError"] = _ERROR_SCHEMA
        error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}}
        for path_item in schema["paths"].values():
            for method, operation in path_item.items():
                responses = operation.setdefault("responses", {})
                for status in error_statuses(method, operation):
                    responses.setdefault(status, {"description": _ERROR_TEXT[status], **error})
        return schema


api = YixiangAPI(
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
    api.add_router("/auth", accounts_api.router)
    api.add_router("/customers", customers_api.router)
    # J (issue 16): organisation, money, history, care, panel, import-job and scheme routes in modules of their own.
    modules = (
        accounts_org_api, accounts_webhooks_api, customers_io_api, customers_history_api, customers_import_api,
        pipeline_api, pipeline_prospecting_api, aftercare_api, aftercare_money_api, aftercare_care_api, aftercare_panel_api,
        aftercare_events_api, incentives_api, incentives_schemes_api, reports_api,
    )  # fmt: skip
    for mod in modules:
        for prefix, router in mod.routers:
            api.add_router(prefix, router)


_register_routers()
