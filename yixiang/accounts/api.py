from __future__ import annotations

from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth import authenticate
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema

from yixiang.accounts import services
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
