"""Reports as plain JSON-ready dicts: the one shape the API returns, the charts draw and the .xlsx
exports write, so the three always show the same figures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _

from yixiang.accounts.models import User
from yixiang.customers.models import Stage, ValueTier
from yixiang.reports import activity_figures, aftersale_figures, incentive_figures, rules, selectors, win_rates

BAND_LABELS = {"0": "0", "1-2": "1–2", "3-4": "3–4"}


def stage_label(stage: int) -> str:
    try:
        return str(Stage(stage).label)
    except ValueError:
        return str(stage)


def _money(value: Decimal | int | None) -> float:
    return float(value or 0)


def _funnel_row(row: selectors.FunnelRow) -> dict[str, Any]:
    return {
        "kind": row.key,
        "id": row.id,
        "name": row.name,
        "reps": row.reps,
        "total": row.total,
        "stages": [{"stage": s, "label": stage_label(s), "count": row.counts.get(s, 0)} for s in rules.STAGES],
        "bands": [
            {
                "band": b.band,
                "label": BAND_LABELS.get(b.band, b.band),
                "count": b.count,
                "target": b.target,
                "status": b.status,
            }
            for b in row.bands
        ],
    }


def funnel(report: selectors.FunnelReport) -> dict[str, Any]:
    return {
        "as_of": report.as_of.isoformat() if report.as_of else None,
        "targets_per_rep": report.targets,
        "target_list": [{"band": b, "label": BAND_LABELS.get(b, b), "target": t} for b, t in report.targets.items()],
        "total": _funnel_row(report.total),
        "reps": [_funnel_row(r) for r in report.reps],
        "teams": [_funnel_row(r) for r in report.teams],
        "regions": [_funnel_row(r) for r in report.regions],
    }


def movement(report: selectors.MovementReport, f: selectors.ReportFilters) -> dict[str, Any]:
    conversions = [
        {
            "stage": c.stage,
            "label": stage_label(c.stage),
            "next_label": stage_label(c.stage + 1),
            "entered": c.entered,
            "advanced": c.advanced,
            "rate": c.rate,
        }
        for c in report.conversions
    ]
    durations = [
        {"stage": d.stage, "label": stage_label(d.stage), "median_days": d.median_days, "stays": d.stints}
        for d in report.durations
    ]
    wins = [
        {
            "stage": w.stage,
            "label": stage_label(w.stage),
            "reached": w.reached,
            "signed": w.signed,
            "probability": w.probability(report.min_sample),
        }
        for w in report.win_rates.values()
    ]
    # One row per stage for tables: conversion, days and win rate side by side.
    by_stage: dict[int, dict[str, Any]] = {w["stage"]: dict(w) for w in wins}
    for c in conversions:
        by_stage[c["stage"]].update(entered=c["entered"], advanced=c["advanced"], rate=c["rate"])
    for d in durations:
        by_stage[d["stage"]].update(median_days=d["median_days"], stays=d["stays"])
    return {
        "from": f.date_from.isoformat(),
        "to": f.date_to.isoformat(),
        "customers": report.customers,
        "conversions": conversions,
        "durations": durations,
        "win_rates": {"min_sample": report.min_sample, "stages": wins},
        "table": [by_stage[s] for s in rules.STAGES if s in by_stage],
    }


def win_probability(p: win_rates.WinProbability) -> dict[str, Any]:
    return {
        "customer_id": p.customer_id,
        "stage": p.stage,
        "stage_label": stage_label(p.stage),
        "probability": p.probability,
        "percent": p.percent,
        "reached": p.reached,
        "signed": p.signed,
        "min_sample": p.min_sample,
        "as_of": p.as_of,
    }


def activity(report: activity_figures.ActivityReport) -> dict[str, Any]:
    return {
        "unit": report.unit,
        "periods": [{"start": a.isoformat(), "end": b.isoformat()} for a, b in report.periods],
        "reps": [
            {
                "user_id": r.user_id,
                "name": r.name,
                "team": r.team,
                "follow_ups": r.follow_ups,
                "effective": r.effective,
                **{
                    key: sum(getattr(p, key) for p in r.points)
                    for key in ("hot_judgments", "hot_right", "hot_pending", "judgments", "reversed")
                },
                "points": [
                    {
                        "start": p.start.isoformat(),
                        "end": p.end.isoformat(),
                        "follow_ups": p.follow_ups,
                        "effective": p.effective,
                        "hot_judgments": p.hot_judgments,
                        "hot_right": p.hot_right,
                        "hot_pending": p.hot_pending,
                        "hot_accuracy": p.hot_accuracy,
                        "judgments": p.judgments,
                        "reversed": p.reversed,
                        "reversal_share": p.reversal_share,
                    }
                    for p in r.points
                ],
            }
            for r in report.rows
        ],
    }


def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d else None


def aftercare(r: aftersale_figures.AftercareReport) -> dict[str, Any]:
    tier_names = {**dict(ValueTier.choices), "": _("Not rated")}
    return {
        "tiers": [{"tier": t, "label": str(tier_names[t]), "count": n} for t, n in r.tiers.items()],
        "pareto": {
            "top_percent": r.pareto_top_percent,
            "share_percent": r.pareto_share_percent,
            "customers": r.pareto_customers,
            "revenue": _money(r.revenue_total),
            "curve": [[x, y] for x, y in r.pareto_curve],
        },
        "loyalty": [
            {"level": code, "label": r.loyalty_labels.get(code) or _("Not recorded"), "count": n}
            for code, n in r.loyalty.items()
        ],
        "loyalty_moves": r.loyalty_moves,
        "referrers": r.referrers,
        "payouts_due": [{**p, "due_date": _iso(p["due_date"]), "amount": _money(p["amount"])} for p in r.payouts_due],
        "renewals_due": [{**c, "end_date": _iso(c["end_date"]), "amount": _money(c["amount"])} for c in r.renewals_due],
        "lapsing": [{**x, "since": _iso(x["since"])} for x in r.lapsing],
        "costs": [{"tier": t, **{k: _money(v) for k, v in parts.items()}} for t, parts in r.costs.items()],
        "costs_total": _money(r.costs_total),
    }


def incentives(r: incentive_figures.IncentivesReport) -> dict[str, Any]:
    return {
        "months": [m.isoformat() for m in r.months],
        "missing_months": [m.isoformat() for m in r.missing_months],
        "people": [
            {"user_id": p.user_id, "name": p.name, "region": p.region, "totals": p.totals, "total": p.total}
            for p in r.people
        ],
        "regions": [{"region": name, "totals": totals, "total": sum(totals)} for name, totals in r.regions.items()],
        "fund": r.fund,
    }


def build(section: str, *, user: User, f: selectors.ReportFilters) -> dict[str, Any]:
    """The figures of one report section for the viewer and filters (raises Http404 out of scope)."""
    if section == "funnel":
        return funnel(selectors.funnel(user=user, f=f))
    if section == "movement":
        return movement(selectors.movement(user=user, f=f), f)
    if section == "activity":
        return activity(activity_figures.activity(user=user, f=f))
    if section == "aftercare":
        return aftercare(aftersale_figures.aftercare(user=user, f=f))
    if section == "incentives":
        return incentives(incentive_figures.incentives(user=user, f=f))
    raise Http404("no such report")
