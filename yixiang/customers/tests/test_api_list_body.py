"""GET /api/v1/customers renders its rows without a pydantic round trip (for speed): the body must be
exactly what the declared schema (CustomerPage of CustomerOut) would have produced from the model
instances, with every optional field filled and with every one empty."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db.models import Prefetch
from ninja.renderers import JSONRenderer

from yixiang.customers import services
from yixiang.customers.api import CustomerOut, CustomerPage
from yixiang.customers.models import Customer, Tag

pytestmark = pytest.mark.django_db

FULL = {
    "kind": "company",
    "phone": "138 0013 8000",
    "email": "a@example.com",
    "wechat": "wx-1",
    "qq": "12345",
    "preferred_channel": "wechat",
    "gender": "female",
    "birth_date": dt.date(1980, 2, 29),
    "birthday_calendar": "lunar",
    "occupation": "老师",
    "income": "20万",
    "family_situation": "已婚",
    "family_supports": True,
    "personality": "谨慎",
    "hobbies": "茶",
    "special_days": "结婚纪念日",
    "financial_situation": "稳定",
    "funds_available": Decimal("123456.78"),
    "province": "北京",
    "city": "北京",
    "address": "朝阳区",
    "source": "referral",
    "company_name": "北京科技有限公司",
    "industry": "软件",
    "company_size": "50人",
    "decision_maker": "王总",
    "key_people": "李秘书",
    "qualification": ["funds", "need"],
    "bank_card": "6222 0212 3456 1234",
    "id_number": "110101198002291234",
    "notes": "备注 <b>",
    "grade": "A",
    "expected_sign_month": dt.date(2026, 12, 1),
    "value_tier": "B",
}


def schema_body(ids: list[int], *, count: int, capped: bool, page: int = 1, page_size: int = 50) -> dict:
    """The page as Ninja renders the schema-validated model instances (the list's former path)."""
    rows = (
        Customer.objects.filter(pk__in=ids)
        .select_related("owner", "region")
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.only("id", "name")))
        .in_bulk()
    )
    data = {"count": count, "count_capped": capped, "page": page, "page_size": page_size}
    data["items"] = [rows[pk] for pk in ids]
    dumped = CustomerPage.model_validate(data).model_dump()
    return json.loads(JSONRenderer().render(None, dumped, response_status=200))


@pytest.fixture
def two(org):
    org.rep.display_name = "小王"
    org.rep.save(update_fields=["display_name"])
    full = org.customer(org.rep, name="全填", **FULL, region=org.north)
    services.customer_set_tags(actor=org.rep, customer=full, tags=["老客户", "VIP", "北京"])
    bare = org.customer(None, name="空白")
    return full, bare


def test_the_list_body_is_what_its_schema_gives_with_every_field_filled_and_empty(org, api_as, two):
    full, bare = two
    body = api_as(org.rep).get("/api/v1/customers").json()

    ids = [i["id"] for i in body["items"]]
    assert set(ids) == {full.pk, bare.pk}
    assert body == schema_body(ids, count=2, capped=False)
    item = {i["id"]: i for i in body["items"]}
    assert list(item[full.pk]) == list(CustomerOut.model_fields)  # the schema's fields, in its order
    filled = item[full.pk]
    assert all(filled[n] not in (None, "", []) for n in CustomerOut.model_fields if n not in ("in_pool", "deleted_at"))
    assert filled["tags"] == ["VIP", "北京", "老客户"] and filled["owner"]["name"] == "小王"
    assert filled["bank_card_masked"] == "6222 **** **** 1234"
    assert item[bare.pk]["owner"] is None and item[bare.pk]["in_pool"] is True


def test_the_trash_and_a_later_page_are_what_the_schema_gives(org, api_as, two):
    full, bare = two
    services.customer_soft_delete(actor=org.admin, customer=Customer.objects.get(pk=full.pk))
    org.rep.display_name = ""  # the owner's name falls back to the username
    org.rep.save(update_fields=["display_name"])

    body = api_as(org.admin).get("/api/v1/customers", deleted="true").json()
    assert [i["id"] for i in body["items"]] == [full.pk] and body["items"][0]["deleted_at"]
    assert body == schema_body([full.pk], count=1, capped=False)
    assert body["items"][0]["owner"]["name"] == "rep"

    body = api_as(org.admin).get("/api/v1/customers", page=2, page_size=1).json()
    assert body == schema_body([], count=1, capped=False, page=2, page_size=1)
