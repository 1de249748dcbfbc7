from __future__ import annotations

import datetime as dt

from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth import authenticate
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from yixiang.accounts import services
from yixiang.accounts.models import ApiToken
from yixiang.errors import DomainError

router = Router(tags=["auth"])


class TokenIn(Schema):
    username: str
    password: str
    name: str = "api"


class TokenOut(Schema):
    token: str


class ErrorOut(Schema):
    detail: str
    code: str


class AuthFailed(DomainError):
    status = 401
    code = "bad_credentials"


class LockedOut(DomainError):
    status = 429
    code = "locked_out"


@router.post(
    "/token",
    auth=None,
    response={200: TokenOut, 401: ErrorOut, 429: ErrorOut},
    summary="Exchange username and password for a token",
)
def create_token(request: HttpRequest, payload: TokenIn):
    if AxesProxyHandler.is_locked(request, credentials={"username": payload.username}):
        raise LockedOut(_("Too many failed logins: this account is locked for a while. Try again later."))
    user = authenticate(request, username=payload.username, password=payload.password)
    if user is None or not user.is_active:
        raise AuthFailed(_("Wrong username or password."))
    raw = services.api_token_create(user=user, name=payload.name[:100])
    return {"token": raw}


class TokenRowOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


@router.get("/tokens", response=list[TokenRowOut], summary="Your API tokens (never the secret)")
def list_tokens(request: HttpRequest):
    return list(ApiToken.objects.filter(user=request.user).order_by("-created_at"))


@router.delete("/tokens/{token_id}", response={204: None, 404: ErrorOut}, summary="Revoke one of your tokens")
def revoke_token(request: HttpRequest, token_id: int):
    if not services.api_token_revoke(user=request.user, token_id=token_id):
        raise Http404
    return Status(204, None)
