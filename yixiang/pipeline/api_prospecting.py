"""Prospecting through the API: a customer's need category and internet awareness, keeping a customer
the release proposal named, and the need categories (administrators edit). The pages' services."""

from __future__ import annotations

from typing import Literal

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from yixiang.customers.scoping import access_customer
from yixiang.errors import ValidationFailed
from yixiang.pipeline import pool, services
from yixiang.pipeline.models import InternetAwareness, NeedCategory

router = Router(tags=["pipeline"])
routers = [("", router)]


class ProfileIn(Schema):
    need_category_id: int | None = Field(None, description="null: not judged yet")
    internet_awareness: Literal[tuple(InternetAwareness.values)] | Literal[""] = ""  # type: ignore[valid-type]


class ProfileOut(Schema):
    customer_id: int
    need_category_id: int | None
    internet_awareness: str


@router.put(
    "/customers/{customer_id}/profile",
    response={200: ProfileOut},
    summary="Record the judged need category and internet awareness",
)
def update_profile(request: HttpRequest, customer_id: int, payload: ProfileIn):
    customer = access_customer(request.user, customer_id, for_change=True)
    category = None
    if payload.need_category_id is not None:
        category = NeedCategory.objects.filter(pk=payload.need_category_id).first()
        if category is None:
            raise ValidationFailed({"need_category_id": [_("Unknown need category.")]})
    return services.profile_update(
        actor=request.user, customer=customer, need_category=category, internet_awareness=payload.internet_awareness
    )


@router.post(
    "/customers/{customer_id}/keep",
    response={204: None},
    summary="Keep a customer the release proposal named (the proposal stays quiet for a while)",
)
def keep_customer(request: HttpRequest, customer_id: int):
    customer = access_customer(request.user, customer_id, for_change=True)
    pool.release_proposal_dismiss(actor=request.user, customer=customer)
    return Status(204, None)


class NeedCategoryIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)
    products: str = Field("", max_length=5000, description="One per line.")
    description: str = Field("", max_length=5000)
    sort_order: int = Field(0, ge=0, le=32767)
    active: bool = True


class NeedCategoryOut(NeedCategoryIn):
    id: int


@router.get("/need-categories", response=list[NeedCategoryOut], summary="The need categories (everyone)")
def list_need_categories(request: HttpRequest):
    return list(NeedCategory.objects.order_by("sort_order", "name"))


@router.post("/need-categories", response={201: NeedCategoryOut}, summary="Create a need category (administrators)")
def create_need_category(request: HttpRequest, payload: NeedCategoryIn):
    return Status(201, services.need_category_save(actor=request.user, **payload.model_dump()))


@router.put(
    "/need-categories/{category_id}",
    response={200: NeedCategoryOut},
    summary="Change a need category (administrators)",
)
def update_need_category(request: HttpRequest, category_id: int, payload: NeedCategoryIn):
    category = NeedCategory.objects.filter(pk=category_id).first()
    if category is None:
        raise Http404
    return services.need_category_save(actor=request.user, category=category, **payload.model_dump())
