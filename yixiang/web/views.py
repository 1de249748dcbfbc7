"""Login and the home page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse

from yixiang.web import selectors


@login_required
def home(request: HttpRequest) -> HttpResponse:
    # A rep's day starts on the agenda.
    if request.user.is_rep:
        return redirect(reverse("agenda"))
    counts = selectors.stage_counts(request.user)
    return render(
        request,
        "web/home.html",
        {
            "stage_counts": counts,
            "total": sum(c.count for c in counts),
            "recent_changes": selectors.recent_changes(request.user),
        },
    )


def favicon(request: HttpRequest) -> HttpResponse:
    # Browsers ask for /favicon.ico whatever the page links; resolved per request because the
    # hashed static name only exists after collectstatic.
    return redirect(static("img/favicon.svg"))
