"""A populated company, and intruders who must see none of it.

The demo company (every app's data: customers, follow-ups, contracts, payouts, …) lives in regions
华东 and 华南. The intruders are a rep, a lead and a director of another region with no data of their own,
so every object id in the database is outside their scope and every customer name is a secret."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver

from yixiang.accounts.models import Region, Role, Team, User
from yixiang.customers.models import Customer
from yixiang.testing import make_user

# Tables whose rows an intruder's own requests may legitimately add or change.
VOLATILE_TABLES = {
    "django_session", "accounts_auditevent", "accounts_apitoken", "axes_accessattempt", "axes_accesslog",
    "axes_accessfailurelog", "axes_accessattemptexpiration",
}  # fmt: skip

# URL parameters that are not object ids.
NON_ID_PARAMS = {"year", "month", "week", "day", "date", "format", "lang"}


@dataclass
class World:
    intruders: dict[str, User]
    secrets: set[str]


def build_world() -> World:
    call_command("seed_demo", verbosity=0)
    # Pool customers are visible to everyone by design: give them an owner so every customer is secret.
    Customer.objects.filter(owner__isnull=True).update(owner=User.objects.get(username="rep1"))
    west = Region.objects.create(name="西部大区")
    team = Team.objects.create(name="西部一组", region=west)
    intruders = {
        "rep": make_user("intruder_rep", Role.REP, team=team, display_name="Intruder Rep"),
        "lead": make_user("intruder_lead", Role.LEAD, team=team, display_name="Intruder Lead"),
        "director": make_user("intruder_director", Role.DIRECTOR, region=west, display_name="Intruder Director"),
    }
    secrets: set[str] = set()
    for name, phone, archive_no in Customer.objects.values_list("name", "phone_normalized", "archive_no"):
        if len(name) >= 3:
            secrets.add(name)
        if phone:
            secrets.add(phone[3:])  # national digits
        secrets.add(archive_no)
    return World(intruders=intruders, secrets=secrets)


def web_patterns() -> list[tuple[str, list[str]]]:
    """(route template, parameter names) for every page URL (not the API, admin, static or i18n)."""
    out: list[tuple[str, list[str]]] = []

    def walk(patterns, prefix=""):
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                if route.startswith(("api/", "admin/", "i18n/")):
                    continue
                walk(p.url_patterns, route)
            elif isinstance(p, URLPattern):
                out.append((route, re.findall(r"<(?:\w+:)?(\w+)>", route)))

    walk(get_resolver().url_patterns)
    return out


def fill(route: str, values: dict[str, str]) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values.get(m.group(1), "1"), route).lstrip("^").rstrip("$")
