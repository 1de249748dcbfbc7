"""Customer archive API: list/search, create, read, patch, soft-delete, restore, unmask."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status
from ninja.renderers import JSONRenderer

from yixiang.accounts.models import Region
from yixiang.accounts.scoping import staff_in_scope
from yixiang.api_types import AmountOrZero, IsoDate
from yixiang.customers import rules, selectors, services
from yixiang.customers.fields import mask_number
from yixiang.customers.models import Customer
from yixiang.customers.scoping import access_customer
from yixiang.errors import ValidationFailed

router = Router(tags=["customers"])

KindT = Literal["individual", "company"]
ChannelT = Literal["phone", "sms", "wechat", "email", "qq", "visit"]
GenderT = Literal["male", "female", ""]
SourceT = Literal[
    "referral",
    "event",
    "database",
    "front_desk",
    "phone_duty",
    "purchased_list",
    "competitor_list",
    "partner",
    "other",
    "",
]
GradeT = Literal["A", "B", "C", "D", ""]


class ContactIn(Schema):
    name: str = Field(..., max_length=100)
    title: str = Field("", max_length=100)
    phone: str = Field("", max_length=32)
    email: str = Field("", max_length=254)
    wechat: str = Field("", max_length=64)
    is_decision_maker: bool = False
    notes: str = Field("", max_length=300)


class ContactOut(ContactIn):
    id: int


class CustomerFieldsIn(Schema):
    # Choices the record cannot leave empty: omit them, never send null (it stored "").
    kind: KindT = None  # type: ignore[assignment]
    name: str | None = Field(None, min_length=1, max_length=100)
    phone: str | None = Field(None, max_length=32)
    email: str | None = Field(None, max_length=254)
    wechat: str | None = Field(None, max_length=64)
    qq: str | None = Field(None, max_length=20)
    preferred_channel: ChannelT = None  # type: ignore[assignment]
    gender: GenderT | None = None
    birth_date: IsoDate | None = None
    birthday_calendar: Literal["solar", "lunar"] = None  # type: ignore[assignment]
    occupation: str | None = Field(None, max_length=100)
    income: str | None = Field(None, max_length=50)
    family_situation: str | None = Field(None, max_length=5000)
    family_supports: bool | None = None
    personality: str | None = Field(None, max_length=200)
    hobbies: str | None = Field(None, max_length=200)
    special_days: str | None = Field(None, max_length=5000)
    financial_situation: str | None = Field(None, max_length=200)
    funds_available: AmountOrZero | None = None
    region_id: int | None = None
    province: str | None = Field(None, max_length=30)
    city: str | None = Field(None, max_length=30)
    address: str | None = Field(None, max_length=300)
    source: SourceT | None = None
    company_name: str | None = Field(None, max_length=200)
    industry: str | None = Field(None, max_length=100)
    company_size: str | None = Field(None, max_length=50)
    decision_maker: str | None = Field(None, max_length=100)
    key_people: str | None = Field(None, max_length=5000)
    qualification: list[Annotated[str, Field(max_length=40)]] | None = Field(
        None, max_length=rules.MAX_QUALIFICATION_ITEMS
    )
    bank_card: str | None = Field(None, max_length=40)
    id_number: str | None = Field(None, max_length=40)
    notes: str | None = Field(None, max_length=20000)
    grade: GradeT | None = None
    expected_sign_month: IsoDate | None = None
    tags: list[Annotated[str, Field(max_length=50)]] | None = Field(None, max_length=rules.MAX_TAGS)


class CustomerCreateIn(CustomerFieldsIn):
    name: str = Field(..., min_length=1, max_length=100)
    owner_id: int | None = Field(None, description="Defaults to the caller. Leads and directors may assign in scope.")
    contacts: list[ContactIn] = Field([], max_length=rules.MAX_CONTACTS)


class CustomerPatchIn(CustomerFieldsIn):
    version: int | None = Field(
        None, description="The version you read; a mismatch gives 409 instead of a lost update."
    )


class OwnerOut(Schema):
    id: int
    username: str
    name: str


class CustomerOut(Schema):
    id: int
    archive_no: str
    kind: str
    name: str
    name_pinyin: str
    stage: int
    grade: str
    expected_sign_month: dt.date | None
    value_tier: str
    owner: OwnerOut | None
    in_pool: bool
    phone: str
    phone_normalized: str | None
    email: str
    wechat: str
    qq: str
    preferred_channel: str
    gender: str
    birth_date: dt.date | None
    birthday_calendar: str
    occupation: str
    income: str
    family_situation: str
    family_supports: bool | None
    personality: str
    hobbies: str
    special_days: str
    financial_situation: str
    funds_available: Decimal | None
    region_id: int | None
    province: str
    city: str
    address: str
    source: str
    company_name: str
    industry: str
    company_size: str
    decision_maker: str
    key_people: str
    qualification: list[str]
    bank_card_masked: str
    id_number_masked: str
    notes: str
    tags: list[str]
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    deleted_at: dt.datetime | None

    @staticmethod
    def resolve_owner(obj: Customer):
        if obj.owner is None:
            return None
        return {"id": obj.owner.pk, "username": obj.owner.username, "name": obj.owner.label}

    @staticmethod
    def resolve_tags(obj: Customer) -> list[str]:
        return [t.name for t in obj.tags.all()]


class CustomerDetailOut(CustomerOut):
    contacts: list[ContactOut]
    warning: str | None = None

    @staticmethod
    def resolve_contacts(obj: Customer):
        return list(obj.contacts.all())

    @staticmethod
    def resolve_warning(obj: Customer):
        return getattr(obj, "_warning", None)


class CustomerPage(Schema):
    count: int = Field(description="Matching customers, counted up to 1,000 (or to the end of this page)")
    count_capped: bool = Field(description="True when more customers match than `count` says")
    page: int
    page_size: int
    items: list[CustomerOut]


class ListParams(Schema):
    q: str = Field("", description="Name, pinyin (zhangsan), initials (zs), phone fragment, company, tag")
    stage: int | None = Field(None, ge=-1, le=5)
    grade: GradeT = ""
    tag: str = ""
    owner: str = Field("", description="'mine', 'pool' or a user id")
    kind: KindT | Literal[""] = ""
    source: str = ""
    region: int | None = None
    value_tier: GradeT = ""
    deleted: bool = Field(False, description="List the trash (soft-deleted customers)")
    page: int = Field(1, ge=1, le=1_000_000)  # a bound keeps the offset a database integer
    page_size: int = Field(50, ge=1, le=200)


class SensitiveOut(Schema):
    bank_card: str
    id_number: str


class ErrorOut(Schema):
    detail: str
    code: str


def _field_data(payload: CustomerFieldsIn) -> dict:
    data = payload.model_dump(exclude_unset=True)
    data.pop("tags", None)
    data.pop("version", None)
    data.pop("owner_id", None)
    data.pop("contacts", None)
    if "region_id" in data:
        rid = data.pop("region_id")
        region = Region.objects.filter(pk=rid).first() if rid is not None else None
        if rid is not None and region is None:
            raise ValidationFailed({"region_id": ["unknown region"]})
        data["region"] = region
    for key, value in list(data.items()):
        if value is None and key not in {
            "birth_date",
            "funds_available",
            "family_supports",
            "region",
            "expected_sign_month",
        }:
            data[key] = ""
    if data.get("qualification") == "":
        data["qualification"] = []
    return data


def _detail(request: HttpRequest, pk: int) -> Customer:
    obj = access_customer(request.user, pk, include_deleted=True)
    return Customer.objects.select_related("owner").prefetch_related("tags", "contacts").get(pk=obj.pk)


@router.get("", response=CustomerPage, summary="List and search visible customers")
def list_customers(request: HttpRequest, params: Query[ListParams]):
    filters = selectors.CustomerFilters(
        q=params.q,
        stage=params.stage,
        grade=params.grade,
        tag=params.tag,
        owner=params.owner,
        kind=params.kind,
        source=params.source,
        region=params.region,
        value_tier=params.value_tier,
        deleted=params.deleted,
    )
    results = selectors.customer_results(fetched_by=request.user, filters=filters)
    start = (params.page - 1) * params.page_size
    items = [_list_item(r) for r in results.rows(start, start + params.page_size, _ROW_FIELDS)]
    count = results.count(cap=max(selectors.COUNT_CAP, start + params.page_size))
    body = {
        "count": count,
        "count_capped": results.capped,
        "page": params.page,
        "page_size": params.page_size,
        "items": items,
    }
    return _render(request, body)


# The list renders plain rows, not model instances through CustomerOut: for 50 rows of ~45 fields
# pydantic's per-attribute getters cost more than the whole search. The rows are exactly what the
# schema gives (customers/tests/test_api_list_body.py pins every field, filled and empty).
_DERIVED = {"owner", "in_pool", "bank_card_masked", "id_number_masked", "tags"}
_ITEM_FIELDS = tuple(CustomerOut.model_fields)
_ROW_FIELDS = (
    *(n for n in _ITEM_FIELDS if n not in _DERIVED),
    "owner_id",
    "owner__username",
    "owner__display_name",
    "bank_card",
    "id_number",
)
_JSON = JSONRenderer()


def _list_item(r: dict[str, Any]) -> dict[str, Any]:
    """A ``values()`` row (+ "tags") as CustomerOut dumps it."""
    owner_id = r["owner_id"]
    if owner_id is None:
        r["owner"] = None
    else:
        username = r["owner__username"]
        r["owner"] = {"id": owner_id, "username": username, "name": r["owner__display_name"] or username}
    r["in_pool"] = owner_id is None
    r["bank_card_masked"] = mask_number(r["bank_card"])
    r["id_number_masked"] = mask_number(r["id_number"])
    return {n: r[n] for n in _ITEM_FIELDS}


def _render(request: HttpRequest, body: dict[str, Any]) -> HttpResponse:
    """``body`` rendered as Ninja renders every response (same encoder)."""
    return HttpResponse(
        _JSON.render(request, body, response_status=200), content_type=_JSON.media_type + "; charset=utf-8"
    )


@router.post("", response={201: CustomerDetailOut, 400: ErrorOut, 409: ErrorOut}, summary="Create a customer")
def create_customer(request: HttpRequest, payload: CustomerCreateIn):
    owner = request.user
    if "owner_id" in payload.model_fields_set:
        owner = None if payload.owner_id is None else staff_in_scope(request.user).filter(pk=payload.owner_id).first()
        if payload.owner_id is not None and owner is None:
            raise ValidationFailed({"owner_id": ["unknown user"]})
        if owner is None and not request.user.is_admin_role:
            raise ValidationFailed({"owner_id": ["only an administrator creates customers in the pool"]})
    customer = services.customer_create(
        actor=request.user,
        data=_field_data(payload),
        owner=owner,
        tags=payload.tags or [],
        contacts=[c.model_dump() for c in payload.contacts],
    )
    obj = _detail(request, customer.pk)
    obj._warning = services.same_name_warning(obj.name, viewer=request.user, exclude_pk=obj.pk)
    return Status(201, obj)


@router.get("/{customer_id}", response=CustomerDetailOut, summary="One customer")
def get_customer(request: HttpRequest, customer_id: int):
    return _detail(request, customer_id)


@router.patch(
    "/{customer_id}",
    response={200: CustomerDetailOut, 400: ErrorOut, 409: ErrorOut},
    summary="Change a customer's fields",
)
def patch_customer(request: HttpRequest, customer_id: int, payload: CustomerPatchIn):
    customer = access_customer(request.user, customer_id, for_change=True)
    services.customer_update(
        actor=request.user,
        customer=customer,
        data=_field_data(payload),
        expected_version=payload.version,
        tags=payload.tags,
    )
    obj = _detail(request, customer_id)
    obj._warning = services.same_name_warning(obj.name, viewer=request.user, exclude_pk=obj.pk)
    return obj


@router.delete("/{customer_id}", response={204: None}, summary="Soft-delete (move to the trash)")
def delete_customer(request: HttpRequest, customer_id: int):
    customer = access_customer(request.user, customer_id, for_change=True)
    services.customer_soft_delete(actor=request.user, customer=customer)
    return Status(204, None)


@router.post("/{customer_id}/restore", response=CustomerDetailOut, summary="Restore from the trash")
def restore_customer(request: HttpRequest, customer_id: int):
    customer = access_customer(request.user, customer_id, for_change=True, include_deleted=True)
    services.customer_restore(actor=request.user, customer=customer)
    return _detail(request, customer_id)


@router.post(
    "/{customer_id}/unmask",
    response={200: SensitiveOut, 403: ErrorOut},
    summary="Full bank card and ID numbers (permission required; logged)",
)
def unmask_customer(request: HttpRequest, customer_id: int):
    customer = access_customer(request.user, customer_id)
    return services.customer_unmask(actor=request.user, customer=customer)
