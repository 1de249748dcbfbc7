"""Shared test data: an organisation with people inside and outside each other's scope.

Region North: team N1 (lead1; rep, teammate), team N2 (lead2; other_team_rep), director.
Region South: team S1 (south_lead; outsider), south_director. Plus an admin.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.test import Client

from yixiang.accounts.models import Region, Role, Team, User
from yixiang.accounts.services import api_token_create
from yixiang.customers import services as customer_services
from yixiang.customers.models import Customer

PASSWORD = "pw-test-123456"


@dataclass
class Org:
    north: Region
    south: Region
    n1: Team
    n2: Team
    s1: Team
    admin: User
    director: User
    south_director: User
    lead1: User
    lead2: User
    south_lead: User
    rep: User
    teammate: User
    other_team_rep: User
    outsider: User

    def customer(self, owner: User | None, name: str = "张三", **data) -> Customer:
        actor = owner or self.admin
        return customer_services.customer_create(actor=actor, data={"name": name, **data}, owner=owner)


def make_user(username: str, role: str, team: Team | None = None, region: Region | None = None, **extra) -> User:
    user = User.objects.create_user(
        username=username,
        password=PASSWORD,
        role=role,
        team=team,
        region=region or (team.region if team else None),
        hire_date=dt.date(2020, 1, 1),
        **extra,
    )
    return user


def make_org() -> Org:
    north = Region.objects.create(name="华北大区")
    south = Region.objects.create(name="华南大区")
    n1 = Team.objects.create(name="北一组", region=north)
    n2 = Team.objects.create(name="北二组", region=north)
    s1 = Team.objects.create(name="南一组", region=south)
    return Org(
        north=north,
        south=south,
        n1=n1,
        n2=n2,
        s1=s1,
        admin=make_user("admin", Role.ADMIN, is_staff=True, is_superuser=True),
        director=make_user("director", Role.DIRECTOR, region=north),
        south_director=make_user("south_director", Role.DIRECTOR, region=south),
        lead1=make_user("lead1", Role.LEAD, team=n1),
        lead2=make_user("lead2", Role.LEAD, team=n2),
        south_lead=make_user("south_lead", Role.LEAD, team=s1),
        rep=make_user("rep", Role.REP, team=n1),
        teammate=make_user("teammate", Role.REP, team=n1),
        other_team_rep=make_user("other_team_rep", Role.REP, team=n2),
        outsider=make_user("outsider", Role.REP, team=s1),
    )


class ApiClient:
    """Django's test client with a real Bearer token from the real token endpoint's service."""

    def __init__(self, user: User):
        self.user = user
        self.client = Client()
        self.token = api_token_create(user=user, name="test")
        self.headers = {"Authorization": f"Bearer {self.token}"}

    def get(self, url: str, **params):
        return self.client.get(url, params, headers=self.headers)

    def post(self, url: str, data=None):
        return self.client.post(
            url, data if data is not None else {}, content_type="application/json", headers=self.headers
        )

    def patch(self, url: str, data):
        return self.client.patch(url, data, content_type="application/json", headers=self.headers)

    def delete(self, url: str):
        return self.client.delete(url, headers=self.headers)
