"""Reports API: the same figures as the report pages, as JSON or .xlsx.

Every route takes the same filters: ``from``/``to`` (the period, default the last 30 days),
``date`` (the funnel's date, default now), ``rep``, ``team``, ``region`` (ids inside your scope;
any other id is 404) and ``unit`` (week or month, for figures over time)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema

from yixiang.api_types import IsoDate
from yixiang.customers.scoping import access_customer
from yixiang.reports import present, services
from yixiang.reports import win_rates as win_rate_reads
from yixiang.reports.forms import make_filters
from yixiang.reports.selectors import ReportFilters

router = Router(tags=["reports"])

SectionT = Literal["funnel", "movement", "activity", "aftercare", "incentives"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class FiltersIn(Schema):
    date_from: IsoDate | None = Field(None, alias="from", description="First day of the period")
    date_to: IsoDate | None = Field(None, alias="to", description="Last day of the period (inclusive)")
    date: IsoDate | None = Field(None, description="The funnel's date (a past date rebuilds it from history)")
    rep: int | None = None
    team: int | None = None
    region: int | None = None
    unit: Literal["week", "month"] = "week"

    def filters(self) -> ReportFilters:
        return make_filters(
            date_from=self.date_from,
            date_to=self.date_to,
            as_of=self.date,
            rep=self.rep,
            team=self.team,
            region=self.region,
            unit=self.unit,
        )


class StageCountOut(Schema):
    stage: int
    label: str
    count: int


class BandOut(Schema):
    band: str
    label: str
    count: int
    target: int
    status: Literal["low", "ok", "high"]


class FunnelRowOut(Schema):
    kind: Literal["total", "rep", "team", "region"]
    id: int | None
    name: str
    reps: int
    total: int
    stages: list[StageCountOut]
    bands: list[BandOut]


class TargetOut(Schema):
    band: str
    label: str
    target: int


class FunnelOut(Schema):
    as_of: dt.date | None = Field(..., description="The funnel's date; null = now")
    targets_per_rep: dict[str, int]
    target_list: list[TargetOut]
    total: FunnelRowOut
    reps: list[FunnelRowOut]
    teams: list[FunnelRowOut]
    regions: list[FunnelRowOut]


class ConversionOut(Schema):
    stage: int
    label: str
    next_label: str
    entered: int = Field(..., description="Customers in this stage at some time in the period")
    advanced: int = Field(..., description="… of whom reached a higher stage within the period")
    rate: float | None


class DurationOut(Schema):
    stage: int
    label: str
    median_days: float | None
    stays: int = Field(..., description="Stays in this stage that ended in the period")


class WinRateOut(Schema):
    stage: int
    label: str
    reached: int
    signed: int
    probability: float | None = Field(..., description="null while fewer customers than min_sample reached the stage")


class WinRatesOut(Schema):
    min_sample: int
    stages: list[WinRateOut]


class MovementOut(Schema):
    from_: dt.date = Field(..., alias="from")
    to: dt.date
    customers: int
    conversions: list[ConversionOut]
    durations: list[DurationOut]
    win_rates: WinRatesOut


class WinProbabilityOut(Schema):
    customer_id: int
    stage: int
    stage_label: str
    probability: float | None
    percent: int | None
    reached: int
    signed: int
    min_sample: int
    # The history behind the figures ends here (the pool's counts are a snapshot); null: live.
    as_of: dt.datetime | None = None


class ActivityPointOut(Schema):
    start: dt.date
    end: dt.date
    follow_ups: int
    effective: int
    hot_judgments: int
    hot_right: int
    hot_pending: int
    hot_accuracy: float | None
    judgments: int
    reversed: int
    reversal_share: float | None


class ActivityRepOut(Schema):
    user_id: int
    name: str
    team: str
    follow_ups: int
    effective: int
    hot_judgments: int
    hot_right: int
    hot_pending: int
    judgments: int
    reversed: int
    points: list[ActivityPointOut]


class PeriodOut(Schema):
    start: dt.date
    end: dt.date


class ActivityOut(Schema):
    unit: str
    periods: list[PeriodOut]
    reps: list[ActivityRepOut]


class AftercareOut(Schema):
    tiers: list[dict[str, Any]]
    pareto: dict[str, Any]
    loyalty: list[dict[str, Any]]
    loyalty_moves: dict[str, int]
    referrers: list[dict[str, Any]]
    payouts_due: list[dict[str, Any]]
    renewals_due: list[dict[str, Any]]
    lapsing: list[dict[str, Any]]
    costs: list[dict[str, Any]]
    costs_total: float


class IncentivesOut(Schema):
    months: list[dt.date]
    missing_months: list[dt.date] = Field(..., description="Months without a scheme version in force")
    people: list[dict[str, Any]]
    regions: list[dict[str, Any]]
    fund: list[dict[str, Any]] | None = Field(..., description="Penalty fund per month; administrators only")


@router.get("/funnel", response=FunnelOut, summary="Intent funnel now or at a past date, per rep / team / region")
def funnel(request: HttpRequest, filters: Query[FiltersIn]) -> dict[str, Any]:
    return present.build("funnel", user=request.user, f=filters.filters())


@router.get("/movement", response=MovementOut, by_alias=True, summary="Conversion, days in stage and win rates")
def movement(request: HttpRequest, filters: Query[FiltersIn]) -> dict[str, Any]:
    return present.build("movement", user=request.user, f=filters.filters())


@router.get("/conversion", response=list[ConversionOut], summary="Conversion between stages over the period")
def conversion(request: HttpRequest, filters: Query[FiltersIn]) -> list[dict[str, Any]]:
    return present.build("movement", user=request.user, f=filters.filters())["conversions"]


@router.get("/stage-durations", response=list[DurationOut], summary="Median days spent in each stage")
def stage_durations(request: HttpRequest, filters: Query[FiltersIn]) -> list[dict[str, Any]]:
    return present.build("movement", user=request.user, f=filters.filters())["durations"]


@router.get("/win-rates", response=WinRatesOut, summary="Win rate of each stage, learned from history")
def win_rates(request: HttpRequest, filters: Query[FiltersIn]) -> dict[str, Any]:
    return present.build("movement", user=request.user, f=filters.filters())["win_rates"]


@router.get(
    "/customers/{customer_id}/win-probability",
    response=WinProbabilityOut,
    summary="The chance a customer signs, from the win rate of its stage",
)
def win_probability(request: HttpRequest, customer_id: int) -> dict[str, Any]:
    customer = access_customer(request.user, customer_id)
    return present.win_probability(win_rate_reads.win_probability(customer, fetched_by=request.user))


@router.get("/activity", response=ActivityOut, summary="Effective calls and judgment accuracy per rep over time")
def activity(request: HttpRequest, filters: Query[FiltersIn]) -> dict[str, Any]:
    return present.build("activity", user=request.user, f=filters.filters())


@router.get("/aftercare", response=AftercareOut, summary="Tiers, 80/20, loyalty, referrals, payouts, renewals, costs")
def aftercare(request: HttpRequest, filters: Query[FiltersIn]) -> dict[str, Any]:
    return present.build("aftercare", user=request.user, f=filters.filters())


@router.get("/incentives", response=IncentivesOut, summary="Monthly incentive totals per person and region")
def incentives(request: HttpRequest, filters: Query[FiltersIn]) -> dict[str, Any]:
    return present.build("incentives", user=request.user, f=filters.filters())


@router.get(
    "/export/{section}",
    summary="A report as an .xlsx workbook",
    response={200: None},
    openapi_extra={"responses": {200: {"content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}}},
)
def export(request: HttpRequest, section: SectionT, filters: Query[FiltersIn]) -> HttpResponse:
    f = filters.filters()
    body = services.report_export(actor=request.user, section=section, f=f)
    response = HttpResponse(body, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{services.export_filename(section, f)}"'
    return response


routers = [("/reports", router)]
