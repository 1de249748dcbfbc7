"""The user's own account: password, language and API tokens."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yixiang.accounts import services
from yixiang.accounts.forms import TokenCreateForm


def _page(request: HttpRequest, *, status: int = 200, **context) -> HttpResponse:
    context.setdefault("password_form", PasswordChangeForm(request.user))
    context.setdefault("token_form", TokenCreateForm())
    context["tokens"] = request.user.api_tokens.order_by("revoked_at", "-created_at")
    return render(request, "accounts/account.html", context, status=status)


@login_required
def account(request: HttpRequest) -> HttpResponse:
    return _page(request)


@login_required
@require_POST
def account_password(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.user, request.POST)
    if not form.is_valid():
        return _page(request, password_form=form, status=400)
    # Django's form checks the old password and the validators; the service does the write.
    revoked = services.user_change_password(user=request.user, new_password=form.cleaned_data["new_password1"])
    update_session_auth_hash(request, request.user)  # stay logged in on this device
    messages.success(request, _("Your password was changed."))
    if revoked:
        messages.info(request, _("Your %(n)s API tokens made before were revoked.") % {"n": revoked})
    return redirect("account")


@login_required
@require_POST
def account_token_create(request: HttpRequest) -> HttpResponse:
    form = TokenCreateForm(request.POST)
    if not form.is_valid():
        return _page(request, token_form=form, status=400)
    raw = services.api_token_create(user=request.user, name=form.cleaned_data["name"])
    # Rendered, not redirected: the raw token must never be stored, not even in the session.
    return _page(request, new_token=raw, new_token_name=form.cleaned_data["name"])


@login_required
@require_POST
def account_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    if not services.api_token_revoke(user=request.user, token_id=token_id):
        raise Http404("token not found")
    messages.success(request, _("The token was revoked."))
    return redirect("account")
