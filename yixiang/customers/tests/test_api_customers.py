import pytest

from yixiang.customers.models import Customer, CustomerChange

pytestmark = pytest.mark.django_db


def test_token_endpoint_gives_a_working_token(client, org):
    from yixiang.testing import PASSWORD

    r = client.post("/api/v1/auth/token", {"username": "rep", "password": PASSWORD}, content_type="application/json")
    assert r.status_code == 200
    token = r.json()["token"]
    r = client.get("/api/v1/customers", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    assert r.json()["count"] == 0


def test_wrong_password_is_401_with_message(client, org):
    r = client.post("/api/v1/auth/token", {"username": "rep", "password": "nope"}, content_type="application/json")
    assert r.status_code == 401
    assert r.json()["code"] == "bad_credentials"


def test_no_token_is_401(client, org):
    assert client.get("/api/v1/customers").status_code == 401
    assert client.get("/api/v1/customers", headers={"Authorization": "Bearer bogus"}).status_code == 401


def test_create_read_patch_delete_restore(org, api_as):
    api = api_as(org.rep)
    r = api.post(
        "/api/v1/customers",
        {
            "name": "张三",
            "phone": "138 0013 8000",
            "tags": ["老客户"],
            "bank_card": "6222 0212 3456 1234",
            "contacts": [{"name": "李四", "is_decision_maker": True}],
        },
    )
    assert r.status_code == 201, r.content
    body = r.json()
    cid = body["id"]
    assert body["phone_normalized"] == "+8613800138000"
    assert body["phone"] == "138 0013 8000"
    assert body["owner"]["username"] == "rep"
    assert body["bank_card_masked"] == "6222 **** **** 1234"
    assert "bank_card" not in body
    assert body["tags"] == ["老客户"]
    assert body["contacts"][0]["name"] == "李四"
    assert body["archive_no"]

    r = api.patch(f"/api/v1/customers/{cid}", {"occupation": "教师", "version": body["version"]})
    assert r.status_code == 200
    assert r.json()["occupation"] == "教师"
    # A stale version is refused, not silently overwritten.
    r = api.patch(f"/api/v1/customers/{cid}", {"occupation": "医生", "version": body["version"]})
    assert r.status_code == 409
    assert Customer.objects.get(pk=cid).occupation == "教师"

    assert api.delete(f"/api/v1/customers/{cid}").status_code == 204
    assert api.get("/api/v1/customers").json()["count"] == 0
    assert api.get("/api/v1/customers", deleted="true").json()["count"] == 1
    assert api.post(f"/api/v1/customers/{cid}/restore").status_code == 200
    assert api.get("/api/v1/customers").json()["count"] == 1
    actions = list(CustomerChange.objects.filter(customer_id=cid).order_by("id").values_list("action", flat=True))
    assert actions == ["create", "update", "delete", "restore"]


def test_ciphertext_at_rest(org):
    from django.db import connection

    c = org.customer(org.rep, bank_card="6222021234561234", id_number="110101199003071234")
    with connection.cursor() as cur:
        cur.execute("SELECT bank_card, id_number FROM customers_customer WHERE id = %s", [c.pk])
        raw_card, raw_id = cur.fetchone()
    assert "6222021234561234" not in raw_card and raw_card.startswith("gAAAA")
    assert "110101199003071234" not in raw_id
    assert Customer.objects.get(pk=c.pk).bank_card == "6222021234561234"


def test_duplicate_phone_refused_naming_record(org, api_as):
    first = org.customer(org.rep, phone="13800138000")
    r = api_as(org.rep).post("/api/v1/customers", {"name": "王五", "phone": "+86 138-0013-8000"})
    assert r.status_code == 409
    assert first.archive_no in r.json()["detail"]
    assert "rep" in r.json()["detail"]
    # Someone who may not see it learns neither the record nor its owner (test_hidden_duplicates).
    r = api_as(org.outsider).post("/api/v1/customers", {"name": "王五", "phone": "13800138000"})
    assert r.status_code == 409
    assert first.archive_no not in r.json()["detail"] and "existing_id" not in r.json()
    assert Customer.objects.count() == 1


def test_same_name_is_a_warning(org, api_as):
    org.customer(org.rep, name="张三")
    r = api_as(org.rep).post("/api/v1/customers", {"name": "张三"})
    assert r.status_code == 201
    assert "张三" in r.json()["warning"]


@pytest.mark.parametrize("q", ["zhangsan", "zs", "ZS", "张三", "8000", "00138", "13800"])  # 4 digits: the end
def test_search(org, api_as, q):
    org.customer(org.rep, name="张三", phone="13800138000")
    org.customer(org.rep, name="李四", phone="13900000000")
    items = api_as(org.rep).get("/api/v1/customers", q=q).json()["items"]
    assert [i["name"] for i in items] == ["张三"]


def test_visibility(org, api_as):
    mine = org.customer(org.rep, name="甲")
    team = org.customer(org.teammate, name="乙")
    other_team = org.customer(org.other_team_rep, name="丙")
    south = org.customer(org.outsider, name="丁")
    pool = org.customer(None, name="戊")

    def names(user):
        return sorted(i["name"] for i in api_as(user).get("/api/v1/customers", page_size=200).json()["items"])

    assert names(org.rep) == sorted(["甲", "戊"])
    assert names(org.lead1) == sorted(["甲", "乙", "戊"])
    assert names(org.director) == sorted(["甲", "乙", "丙", "戊"])
    assert names(org.south_director) == sorted(["丁", "戊"])
    assert names(org.admin) == sorted(["甲", "乙", "丙", "丁", "戊"])
    rep = api_as(org.rep)
    for c in (team, other_team, south):
        assert rep.get(f"/api/v1/customers/{c.pk}").status_code == 404
        assert rep.patch(f"/api/v1/customers/{c.pk}", {"name": "x"}).status_code == 404
        assert rep.delete(f"/api/v1/customers/{c.pk}").status_code == 404
    assert rep.get(f"/api/v1/customers/{mine.pk}").status_code == 200
    assert rep.get(f"/api/v1/customers/{pool.pk}").status_code == 200
    # Pool customers are visible but must be claimed before a rep edits them.
    assert rep.patch(f"/api/v1/customers/{pool.pk}", {"name": "x"}).status_code == 404


def test_unmask_needs_permission_and_is_logged(org, api_as):
    c = org.customer(org.rep, bank_card="6222021234561234")
    assert api_as(org.rep).post(f"/api/v1/customers/{c.pk}/unmask").status_code == 403
    r = api_as(org.admin).post(f"/api/v1/customers/{c.pk}/unmask")
    assert r.status_code == 200 and r.json()["bank_card"] == "6222021234561234"
    assert CustomerChange.objects.filter(customer=c, action="unmask", actor=org.admin).count() == 1


def test_bad_input_is_a_clear_4xx(org, api_as):
    api = api_as(org.rep)
    assert api.post("/api/v1/customers", {"name": ""}).status_code == 422
    r = api.post("/api/v1/customers", {"name": "x", "phone": "12"})
    assert r.status_code == 400 and r.json()["field"] == "phone"
    r = api.client.post("/api/v1/customers", "{not json", content_type="application/json", headers=api.headers)
    assert 400 <= r.status_code < 500
    assert Customer.objects.count() == 0


def test_openapi_lists_routes(client):
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/customers" in spec["paths"]
    assert "/api/v1/customers/{customer_id}" in spec["paths"]
    assert "/api/v1/auth/token" in spec["paths"]
