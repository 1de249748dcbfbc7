"""Incentive scheme versions through the API: everyone reads the scheme they are assessed by;
administrators create and change versions (the same service and checks as the versions page, audited)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema, Status

from yixiang.api_types import IsoDate
from yixiang.incentives import rules, selectors, services

router = Router(tags=["incentives"])
routers = [("/incentives", router)]

SEED = rules.SEED
INT_MAX = 2**31 - 1  # the database's integer columns
SMALL_MAX = 32767


class ErrorOut(Schema):
    detail: str
    code: str


ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def _yuan(default: int, description: str = "", ge: int = 0) -> int:
    return Field(default, ge=ge, le=INT_MAX, description=description)


class SchemeIn(Schema):
    """Every number of the scheme; left out, a number takes the seed scheme's value."""

    name: str = Field(..., min_length=1, max_length=200)
    valid_from: IsoDate
    valid_to: IsoDate | None = Field(None, description="Empty: until further notice. Versions may not overlap.")
    valid_floor: int = _yuan(SEED.valid_floor, "A valid customer's first-month payment floor (yuan)", ge=1)
    double_floor: int = _yuan(SEED.double_floor, "The payment floor at which a customer counts twice (yuan)", ge=1)
    default_threshold: int = Field(SEED.default_threshold, ge=0, le=SMALL_MAX)
    penalties: dict[str, list[int]] = Field(
        default_factory=lambda: {str(k): list(v) for k, v in SEED.penalties.items()},
        description='Per threshold, the penalty at 0, 1 … customers reached, e.g. {"2": [800, 300]}',
    )
    reward_steps: dict[str, list[list[int]]] = Field(
        default_factory=lambda: {str(k): [list(s) for s in v] for k, v in SEED.reward_steps.items()},
        description='Per threshold, [payment floor, reward] steps, e.g. {"2": [[7950, 300], [20000, 500]]}',
    )
    director_short: int = _yuan(SEED.director_short, "Director: per customer short of the threshold")
    director_over: int = _yuan(SEED.director_over, "Director: per customer over the threshold")
    probation_factor: Decimal = Field(SEED.probation_factor, ge=0, le=1, max_digits=3, decimal_places=2)
    min_days_on_staff: int = Field(SEED.min_days_on_staff, ge=0, le=31)
    activity_window: int = Field(SEED.activity_window, ge=1, le=SMALL_MAX)
    activity_min_active: int = Field(SEED.activity_min_active, ge=1, le=SMALL_MAX)
    fraud_person: int = _yuan(SEED.fraud_person)
    fraud_director: int = _yuan(SEED.fraud_director)
    opening_fund: int = _yuan(SEED.opening_fund, "The penalty fund at the start of the version")
    counted_categories: list[str] = Field(
        default_factory=list, description="Product categories whose payments count; empty: every payment counts."
    )
    target_due_day: int = Field(6, ge=1, le=28)
    # A plain "HH:MM" (JSON Schema's "time" format wants a UTC offset; this is a local time of day).
    target_due_time: str = Field("08:00", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", description="Local time, HH:MM")
    note: str = Field("", max_length=2000)


class SchemeOut(SchemeIn):
    id: int
    updated_at: dt.datetime
    updated_by_id: int | None

    @staticmethod
    def resolve_target_due_time(obj) -> str:
        return obj.target_due_time.strftime("%H:%M")


def _data(payload: SchemeIn) -> dict:
    data = payload.model_dump()
    data["counted_categories"] = [c.strip() for c in data["counted_categories"] if c.strip()]
    data["target_due_time"] = dt.time.fromisoformat(data["target_due_time"])
    return data


@router.get("/schemes", response=list[SchemeOut], summary="The scheme versions, newest first (everyone)")
def list_schemes(request: HttpRequest):
    return list(selectors.scheme_versions())


@router.post("/schemes", response={201: SchemeOut, **ERRORS}, summary="Create a scheme version (administrators)")
def create_scheme(request: HttpRequest, payload: SchemeIn):
    return Status(201, services.scheme_version_save(actor=request.user, data=_data(payload)))


@router.put(
    "/schemes/{scheme_id}", response={200: SchemeOut, **ERRORS}, summary="Change a scheme version (administrators)"
)
def update_scheme(request: HttpRequest, scheme_id: int, payload: SchemeIn):
    if not request.user.is_admin_role:  # refused before looking the version up, as for creation
        raise services.forbidden()
    version = selectors.scheme_versions().filter(pk=scheme_id).first()
    if version is None:
        raise Http404
    return services.scheme_version_save(actor=request.user, data=_data(payload), version=version)
