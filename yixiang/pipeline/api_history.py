"""A customer's history through the API: stage changes, owner changes and the audit-relevant field
changes (sensitive values are stored masked). Pages by offset, newest first, as the customer page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from yixiang.customers import selectors as customer_selectors
from yixiang.customers.scoping import access_customer
from yixiang.pipeline import selectors as pipeline_selectors

router = Router(tags=["history"])
routers = [("/customers", router)]


class PageParams(Schema):
    offset: int = Field(0, ge=0, le=1_000_000, description="Rows to skip (newest first).")
    limit: int = Field(50, ge=1, le=200)


class UserRef(Schema):
    id: int
    username: str
    name: str


def _user(user) -> dict[str, Any] | None:
    return {"id": user.pk, "username": user.username, "name": user.label} if user is not None else None


class StageChangeOut(Schema):
    id: int
    at: dt.datetime
    from_stage: int | None
    to_stage: int
    by: UserRef | None
    owner_id: int | None = Field(description="The owner at the time (the judgment is theirs).")
    signals: list
    note: str
    follow_up_id: int | None


class OwnerChangeOut(Schema):
    id: int
    at: dt.datetime
    from_owner: UserRef | None
    to_owner: UserRef | None
    reason: str = Field(description="created, claim, release, recycle, handover or distribute")
    detail: str
    note: str
    by: UserRef | None


class FieldChangeOut(Schema):
    id: int
    at: dt.datetime
    action: str
    actor: UserRef | None
    changes: dict = Field(description="{field: [old, new]}; bank card and ID numbers are masked.")


class StagePage(Schema):
    offset: int
    limit: int
    next_offset: int | None = Field(description="The offset of the next page; null: no more rows.")
    items: list[StageChangeOut]


class OwnerPage(StagePage):
    items: list[OwnerChangeOut]  # type: ignore[assignment]


class ChangePage(StagePage):
    items: list[FieldChangeOut]  # type: ignore[assignment]


def _page(qs, params: PageParams, row) -> dict[str, Any]:
    """One page and whether there is another (one row more is read, no count over the whole history)."""
    rows = list(qs[params.offset : params.offset + params.limit + 1])
    more = params.offset + params.limit if len(rows) > params.limit else None
    return {
        "offset": params.offset,
        "limit": params.limit,
        "next_offset": more,
        "items": [row(r) for r in rows[: params.limit]],
    }


def _customer(request: HttpRequest, customer_id: int):
    # Customers in the trash stay readable, as on the customer page.
    return access_customer(request.user, customer_id, include_deleted=True)


@router.get(
    "/{customer_id}/history/stages",
    response={200: StagePage},
    summary="A customer's stage changes, newest first",
)
def stage_history(request: HttpRequest, customer_id: int, params: Query[PageParams]):
    customer = _customer(request, customer_id)
    qs = pipeline_selectors.customer_stage_changes(customer=customer)
    return _page(qs, params, lambda r: {
        "id": r.pk, "at": r.at, "from_stage": r.from_stage, "to_stage": r.to_stage, "by": _user(r.by),
        "owner_id": r.owner_id, "signals": r.signals or [], "note": r.note, "follow_up_id": r.follow_up_id,
    })  # fmt: skip


@router.get(
    "/{customer_id}/history/owners",
    response={200: OwnerPage},
    summary="A customer's owner changes (claim, release, recycle, hand-over, distribution), newest first",
)
def owner_history(request: HttpRequest, customer_id: int, params: Query[PageParams]):
    customer = _customer(request, customer_id)
    qs = pipeline_selectors.customer_owner_changes(customer=customer)
    return _page(qs, params, lambda r: {
        "id": r.pk, "at": r.at, "from_owner": _user(r.from_owner), "to_owner": _user(r.to_owner),
        "reason": r.reason, "detail": r.detail, "note": r.note, "by": _user(r.by),
    })  # fmt: skip


@router.get(
    "/{customer_id}/history/changes",
    response={200: ChangePage},
    summary="Who changed which field of a customer and when (created, updated, unmasked …), newest first",
)
def change_history(request: HttpRequest, customer_id: int, params: Query[PageParams]):
    customer = _customer(request, customer_id)
    qs = customer_selectors.customer_history(customer=customer, limit=params.offset + params.limit + 1)
    return _page(qs, params, lambda r: {
        "id": r.pk, "at": r.at, "action": r.action, "actor": _user(r.actor), "changes": r.changes or {},
    })  # fmt: skip
