"""Login and the home page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse

from yixiang.pipeline import pool as pool_services
from yixiang.reports import managers
from yixiang.web import selectors


@login_required
def home(request: HttpRequest) -> HttpResponse:
    # A rep's day starts on the agenda.
    if request.user.is_rep:
        return redirect(reverse("agenda"))
    counts = selectors.stage_counts(request.user)
    ctx = {
        "stage_counts": counts,
        "total": sum(c.count for c in counts),
        "recent_changes": selectors.recent_changes(request.user),
    }
    # Managers start from "who is behind?" (issue 14): a lead sees the team, a director the region.
    # Stage 3–4 customers a recycling rule would take wait for the manager (issue 15).
    ctx["recycle_count"] = pool_services.recycle_proposal_count(request.user)
    if request.user.is_lead:
        ctx["team"] = managers.team_home(user=request.user)
    elif request.user.is_director or request.user.is_admin_role:
        ctx["region"] = managers.region_home(user=request.user)
        ctx["team"] = ctx["region"].week
    return render(request, "web/home.html", ctx)


def favicon(request: HttpRequest) -> HttpResponse:
    # Browsers ask for /favicon.ico whatever the page links; resolved per request because the
    # hashed static name only exists after collectstatic.
    return redirect(static("img/favicon.svg"))
