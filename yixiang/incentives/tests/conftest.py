"""Fixtures for the incentive tests: the shared org, on staff since 2010, and the seeded scheme."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest


@pytest.fixture
def seeded(db):
    """The scheme versions the data migration ships (a transactional test's flush removes them)."""
    from django.apps import apps

    from yixiang.incentives.models import SchemeVersion

    if not SchemeVersion.objects.exists():
        importlib.import_module("yixiang.incentives.migrations.0002_seed_scheme").seed(apps, None)
    return SchemeVersion.objects.order_by("valid_from")


@pytest.fixture
def inc(org, seeded):
    """The shared org (rep, teammate, other_team_rep in the north; outsider in the south …), hired in 2010."""
    from yixiang.accounts.models import User

    User.objects.update(hire_date=dt.date(2010, 1, 1))
    for user in (
        org.admin, org.director, org.south_director, org.lead1, org.lead2, org.south_lead,
        org.rep, org.teammate, org.other_team_rep, org.outsider,
    ):  # fmt: skip
        user.refresh_from_db()
    return org
