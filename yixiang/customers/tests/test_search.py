"""Customer search (selectors.search_terms): every kind of query, the scope, the capped count and
the trigram index kept in sync whoever writes the rows. Runs on SQLite (FTS5) and PostgreSQL
(pg_trgm) alike."""

from __future__ import annotations

import pytest
from django.utils import translation

from yixiang.customers import importing, selectors, services
from yixiang.customers.models import Customer
from yixiang.customers.tests.import_helpers import write_csv


def _names(api_as, user, q: str, **params) -> list[str]:
    body = api_as(user).get("/api/v1/customers", q=q, **params).json()
    assert body["count"] == len(body["items"]) and body["count_capped"] is False
    return sorted(i["name"] for i in body["items"])


@pytest.fixture
def people(org):
    make = org.customer
    return {
        "zhangwei": make(org.rep, name="张伟", phone="13812345678"),
        "zhangweiming": make(org.rep, name="张伟明", phone="13900001111"),
        "zhouwen": make(None, name="周文", phone="13700002222"),  # the public pool
        "majiguo": make(org.rep, name="马继国", phone="15811112222"),
        "lixiaoming": make(org.rep, name="李小明", phone="18655556666"),
        "company": make(org.rep, name="王总", kind="company", company_name="杭州星辰科技有限公司", phone="17711113333"),
        "tom": make(org.rep, name="Tom Hanks", phone="13322224444"),
        "stranger": make(org.other_team_rep, name="张伟", phone="13812340000"),  # not visible to org.rep
    }


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("zw", ["周文", "张伟", "张伟明"]),  # initials from the start
        ("ZWM", ["张伟明"]),
        ("mjg", ["马继国"]),
        ("zhangwei", ["张伟", "张伟明"]),  # full pinyin from the start
        ("zhangw", ["张伟", "张伟明"]),
        ("tom", ["Tom Hanks"]),  # a Latin name is its own pinyin
        ("hanks", ["Tom Hanks"]),  # ≥ 3 letters: also inside the name
        ("weiming", []),  # pinyin is matched from the start only
        ("5678", ["张伟"]),  # last four digits
        ("678", ["张伟"]),  # last three digits
        ("2222", ["周文", "马继国"]),  # the end only: Tom's 13322224444 has 2222 inside
        ("222", ["周文", "马继国"]),
        ("1234", []),  # 3 or 4 digits inside the number: not matched (issue 17, see selectors)
        ("0000", []),  # the stranger's 13812340000 is out of scope
        ("12345", ["张伟"]),  # ≥ 5 digits: anywhere in the number (the stranger's is out of scope)
        ("00011", ["张伟明"]),
        ("138-1234", ["张伟"]),  # formatted fragments are digits
        ("13", []),  # too short to mean anything
        ("张", ["张伟", "张伟明"]),  # one character: a surname, from the start
        ("张伟", ["张伟", "张伟明"]),
        ("张伟明", ["张伟明"]),
        ("小明", []),  # two characters inside a name: not matched (see selectors)
        ("李小明", ["李小明"]),
        ("杭州", ["王总"]),  # company from the start
        ("星辰科技", ["王总"]),  # ≥ 3 characters: inside the company name
        ("科技有限", ["王总"]),
        ("伟明", []),
    ],
)
def test_search_kinds(org, api_as, people, q, expected):
    assert _names(api_as, org.rep, q) == sorted(expected)


def test_archive_number_from_its_start(org, api_as, people):
    no = people["majiguo"].archive_no
    assert _names(api_as, org.rep, no) == ["马继国"]
    assert _names(api_as, org.rep, no.lower()) == ["马继国"]
    assert "马继国" in _names(api_as, org.rep, no[:-2])
    assert _names(api_as, org.rep, no[:6]) == []  # a bare year prefix is too wide to be a search
    assert _names(api_as, org.rep, people["stranger"].archive_no) == []  # scope still applies


def test_contact_person_and_tag(org, api_as, people):
    services.contact_add(actor=org.rep, customer=people["company"], data={"name": "赵经理"})
    services.customer_set_tags(actor=org.rep, customer=people["majiguo"], tags=["老客户"])
    assert _names(api_as, org.rep, "赵经理") == ["王总"]
    assert _names(api_as, org.rep, "赵") == ["王总"]
    assert _names(api_as, org.rep, "老客户") == ["马继国"]


def test_scope_and_filters_still_apply(org, api_as, people):
    assert _names(api_as, org.other_team_rep, "zw") == ["周文", "张伟"]  # own + pool only
    assert _names(api_as, org.rep, "zw", owner="pool") == ["周文"]
    assert _names(api_as, org.rep, "zw", owner="mine") == ["张伟", "张伟明"]
    services.customer_soft_delete(actor=org.rep, customer=people["zhangwei"])
    assert _names(api_as, org.rep, "5678") == []
    assert _names(api_as, org.rep, "5678", deleted="true") == ["张伟"]  # the trash searches too


def test_newest_change_first(org, api_as, people):
    services.customer_update(actor=org.rep, customer=people["zhangweiming"], data={"notes": "回访"})
    items = api_as(org.rep).get("/api/v1/customers", q="zw").json()["items"]
    assert [i["name"] for i in items][0] == "张伟明"


def test_edits_move_the_trigram_index(org, api_as, people):
    """Name and phone edits through the services are found under the new values only."""
    c = people["lixiaoming"]
    services.customer_update(actor=org.rep, customer=c, data={"name": "李大明", "phone": "13698765432"})
    assert _names(api_as, org.rep, "李大明") == ["李大明"]
    assert _names(api_as, org.rep, "98765") == ["李大明"]
    assert _names(api_as, org.rep, "5432") == ["李大明"]  # the tail index follows too
    assert _names(api_as, org.rep, "55556") == []
    assert _names(api_as, org.rep, "6666") == []
    assert _names(api_as, org.rep, "李小明") == []
    Customer.objects.filter(pk=c.pk).delete()
    assert _names(api_as, org.rep, "98765") == []
    assert _names(api_as, org.rep, "5432") == []


def test_imported_customers_are_found(org, api_as, tmp_path):
    rows = [["姓名", "电话", "公司"], ["欧阳锋", "13544447777", "白驼山庄贸易公司"], ["黄药师", "13566668888", ""]]
    with translation.override("en"):
        job = importing.import_file(write_csv(tmp_path / "c.csv", rows), actor=org.rep, owner=org.rep)
    assert job.created_count == 2, job.message
    assert _names(api_as, org.rep, "oyf") == ["欧阳锋"]
    assert _names(api_as, org.rep, "7777") == ["欧阳锋"]
    assert _names(api_as, org.rep, "44447") == ["欧阳锋"]
    assert _names(api_as, org.rep, "驼山庄") == ["欧阳锋"]
    assert _names(api_as, org.rep, "黄") == ["黄药师"]


def test_count_is_capped(org, api_as, monkeypatch):
    for n in range(7):
        org.customer(org.rep, name=f"张{n}号", phone=f"1380000{n:04d}")
    monkeypatch.setattr(selectors, "COUNT_CAP", 5)
    body = api_as(org.rep).get("/api/v1/customers", q="张", page_size=2).json()
    assert (body["count"], body["count_capped"], len(body["items"])) == (5, True, 2)
    body = api_as(org.rep).get("/api/v1/customers", q="张", page_size=2, page=4).json()
    assert (body["count"], body["count_capped"], len(body["items"])) == (7, False, 1)  # the end is in sight
    body = api_as(org.rep).get("/api/v1/customers", page_size=2).json()
    assert (body["count"], body["count_capped"]) == (5, True)


def test_capped_count_on_the_web_list(org, client, monkeypatch):
    for n in range(4):
        org.customer(org.rep, name=f"张{n}号")
    monkeypatch.setattr(selectors, "COUNT_CAP", 3)
    client.force_login(org.rep)
    html = client.get("/customers/").content.decode()
    assert "超过 3 位客户" in html
    html = client.get("/customers/", {"q": "张1"}).content.decode()
    assert "1 位客户" in html and "超过" not in html


def test_pages_do_not_overlap(org, api_as):
    for n in range(9):
        org.customer(org.rep if n % 2 else None, name=f"王{n}", phone=f"1390000{n:04d}")
    pages = [api_as(org.rep).get("/api/v1/customers", q="wang", page=p, page_size=4).json()["items"] for p in (1, 2, 3)]
    names = [i["name"] for page in pages for i in page]
    assert sorted(names) == [f"王{n}" for n in range(9)]


def test_search_statements_leave_no_plan_to_flip(org, api_as):
    """Issue 17: on PostgreSQL a search's page is ordered by an expression no index gives, so the
    planner takes the term's own index and sorts its matches; with a plain ORDER BY updated_at and a
    LIMIT it walked the list's index row by row when it overrated a phone fragment's matches (6 s
    at 1M, the p95 tail). And on both databases the capped count takes any cap + 1 matches: no
    ordering at all."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    org.customer(org.rep, name="张伟", phone="13812345678")
    # One term (a phone's tail; a longer fragment), several (initials and pinyin).
    for q in ("5678", "12345", "zw"):
        with CaptureQueriesContext(connection) as ctx:
            body = api_as(org.rep).get("/api/v1/customers", q=q).json()
        assert [i["name"] for i in body["items"]] == ["张伟"] and body["count"] == 1
        # The search's own statements (SQLite answers a phone fragment from its FTS5 trigram table).
        terms = (
            '"phone_normalized" ILIKE',
            "customers_customer_fts MATCH",
            '"name_initials" >=',
            '"phone_normalized", 4) =',  # the tail: RIGHT(…, 4) on PostgreSQL
            '"phone_normalized", -4) =',  # SUBSTR(…, -4) on SQLite
        )
        searched = [x["sql"] for x in ctx.captured_queries if any(t in x["sql"] for t in terms)]
        page = [s for s in searched if "COUNT(" not in s]
        count = [s for s in searched if "COUNT(" in s]
        assert page and count, searched
        if connection.vendor == "postgresql":  # SQLite's planner takes the term's index as it is
            assert all('"updated_at" + ' in s for s in page), page
        assert all("ORDER BY" not in s for s in count), count
