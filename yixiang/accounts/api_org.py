"""Organisation API: regions, teams and staff. Administrators only (others get 403), every write audited.

Reads are admin-only too: the org chart with hire dates and probation is HR data, not a rep's."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from yixiang.accounts import services_org as services
from yixiang.accounts.models import Region, Role, Team, User
from yixiang.api_types import IsoDate
from yixiang.errors import ValidationFailed

router = Router(tags=["organisation"])
routers = [("/org", router)]

RoleName = Literal[tuple(Role.values)]  # type: ignore[valid-type]


class ErrorOut(Schema):
    detail: str
    code: str


# Writes leave their 4xx to the API's schema post-processor (yixiang/api.py), which documents the
# same; the reads keep this list: it names statuses the post-processor would not add for them.
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def _admin(request: HttpRequest) -> None:
    services.require_admin(request.user)


def _get(model, pk: int):
    obj = model.objects.filter(pk=pk).first()
    if obj is None:
        raise Http404
    return obj


class RegionIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)


class RegionOut(Schema):
    id: int
    name: str


class TeamIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)
    region_id: int


class TeamOut(Schema):
    id: int
    name: str
    region_id: int


@router.get("/regions", response={200: list[RegionOut], **ERRORS}, summary="Regions (administrators)")
def list_regions(request: HttpRequest):
    _admin(request)
    return list(Region.objects.order_by("name"))


@router.post("/regions", response={201: RegionOut}, summary="Create a region (administrators)")
def create_region(request: HttpRequest, payload: RegionIn):
    _admin(request)
    return Status(201, services.region_save(actor=request.user, name=payload.name))


@router.get("/regions/{region_id}", response={200: RegionOut, **ERRORS}, summary="One region")
def get_region(request: HttpRequest, region_id: int):
    _admin(request)
    return _get(Region, region_id)


@router.patch("/regions/{region_id}", response={200: RegionOut}, summary="Rename a region")
def update_region(request: HttpRequest, region_id: int, payload: RegionIn):
    _admin(request)
    return services.region_save(actor=request.user, name=payload.name, region=_get(Region, region_id))


@router.get("/teams", response={200: list[TeamOut], **ERRORS}, summary="Teams (administrators)")
def list_teams(request: HttpRequest, region_id: int | None = None):
    _admin(request)
    qs = Team.objects.order_by("region__name", "name")
    return list(qs.filter(region_id=region_id) if region_id is not None else qs)


@router.post("/teams", response={201: TeamOut}, summary="Create a team in a region")
def create_team(request: HttpRequest, payload: TeamIn):
    _admin(request)
    region = _region_field(payload.region_id)
    return Status(201, services.team_save(actor=request.user, name=payload.name, region=region))


@router.get("/teams/{team_id}", response={200: TeamOut, **ERRORS}, summary="One team")
def get_team(request: HttpRequest, team_id: int):
    _admin(request)
    return _get(Team, team_id)


@router.patch(
    "/teams/{team_id}",
    response={200: TeamOut},
    summary="Rename a team or move it to another region (its reps and leads follow)",
)
def update_team(request: HttpRequest, team_id: int, payload: TeamIn):
    _admin(request)
    team = _get(Team, team_id)
    return services.team_save(actor=request.user, name=payload.name, region=_region_field(payload.region_id), team=team)


def _region_field(region_id: int) -> Region:
    region = Region.objects.filter(pk=region_id).first()
    if region is None:
        raise ValidationFailed({"region_id": [_("Unknown region.")]})
    return region


class StaffOut(Schema):
    id: int
    username: str
    display_name: str
    email: str
    phone: str
    role: str
    team_id: int | None
    region_id: int | None
    hire_date: dt.date | None
    on_probation: bool
    probation_until: dt.date | None
    can_unmask: bool
    is_active: bool
    date_joined: dt.datetime


class StaffPatch(Schema):
    display_name: str | None = Field(None, max_length=100)
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=32)
    role: RoleName | None = None
    team_id: int | None = Field(None, description="Reps and leads take their team's region.")
    region_id: int | None = Field(None, description="A director's region.")
    hire_date: IsoDate | None = None
    on_probation: bool | None = Field(
        None, description="On probation: incentive rewards and fines are scaled (see the scheme)."
    )
    probation_until: IsoDate | None = Field(
        None,
        description="Last day of probation. When set it decides, month by month, instead of on_probation: a "
        "month is a probation month when probation still runs on its first day. null clears it.",
    )
    can_unmask: bool | None = None
    is_active: bool | None = Field(None, description="False: login and every API token stop working at once.")


class StaffIn(StaffPatch):
    username: str = Field(..., min_length=1, max_length=150)
    password: str = Field(..., min_length=8, max_length=128)
    role: RoleName = Role.REP


class StaffParams(Schema):
    role: RoleName | None = None
    team_id: int | None = None
    region_id: int | None = None
    active: bool | None = None


# Only these may be cleared with null; for the others null means "leave as is".
NULLABLE = {"team_id", "region_id", "hire_date", "probation_until"}


def _nulls_out(data: dict) -> dict:
    return {k: v for k, v in data.items() if v is not None or k in NULLABLE}


@router.get("/staff", response={200: list[StaffOut], **ERRORS}, summary="Staff (administrators)")
def list_staff(request: HttpRequest, params: Query[StaffParams]):
    _admin(request)
    qs = User.objects.order_by("username")
    if params.role:
        qs = qs.filter(role=params.role)
    if params.team_id is not None:
        qs = qs.filter(team_id=params.team_id)
    if params.region_id is not None:
        qs = qs.filter(region_id=params.region_id)
    if params.active is not None:
        qs = qs.filter(is_active=params.active)
    return list(qs[:5000])


@router.post("/staff", response={201: StaffOut}, summary="Create a staff member")
def create_staff(request: HttpRequest, payload: StaffIn):
    _admin(request)
    data = _nulls_out(payload.model_dump(exclude={"username", "password"}, exclude_unset=True))
    data.setdefault("role", payload.role)
    user = services.staff_create(actor=request.user, username=payload.username, password=payload.password, data=data)
    return Status(201, user)


@router.get("/staff/{user_id}", response={200: StaffOut, **ERRORS}, summary="One staff member")
def get_staff(request: HttpRequest, user_id: int):
    _admin(request)
    return _get(User, user_id)


@router.patch("/staff/{user_id}", response={200: StaffOut}, summary="Change a staff member")
def update_staff(request: HttpRequest, user_id: int, payload: StaffPatch):
    _admin(request)
    data = _nulls_out(payload.model_dump(exclude_unset=True))
    return services.staff_update(actor=request.user, user=_get(User, user_id), data=data)


@router.post(
    "/staff/{user_id}/deactivate",
    response={200: StaffOut},
    summary="Deactivate a staff member: login and API tokens stop at once",
)
def deactivate_staff(request: HttpRequest, user_id: int):
    _admin(request)
    return services.staff_deactivate(actor=request.user, user=_get(User, user_id))
