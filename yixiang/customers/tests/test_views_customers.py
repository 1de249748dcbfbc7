"""Customer archive pages through the real URLs, as each kind of user."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from yixiang.customers import services
from yixiang.customers.models import Customer, CustomerChange, Stage

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


def form_data(**overrides) -> dict:
    """A minimal valid create/edit form post."""
    data = {
        "kind": "individual",
        "name": "王五",
        "preferred_channel": "phone",
        "birthday_calendar": "solar",
        "family_supports": "unknown",
    }
    data.update(overrides)
    return data


@pytest.fixture
def as_user(client):
    def _as(user):
        client.force_login(user)
        return client

    return _as


# ---------- list and search ----------


def test_list_shows_own_and_pool_but_not_teammates(org, as_user):
    org.customer(org.rep, "张三")
    org.customer(None, "公海客户")
    org.customer(org.teammate, "队友客户")
    html = as_user(org.rep).get(reverse("customer_list")).content.decode()
    assert "张三" in html and "公海客户" in html
    assert "队友客户" not in html


def test_lead_sees_team_director_sees_region(org, as_user):
    org.customer(org.teammate, "队友客户")
    org.customer(org.outsider, "南方客户")
    html = as_user(org.lead1).get(reverse("customer_list")).content.decode()
    assert "队友客户" in html and "南方客户" not in html
    html = as_user(org.director).get(reverse("customer_list")).content.decode()
    assert "队友客户" in html and "南方客户" not in html


@pytest.mark.parametrize("query", ["zs", "zhangsan", "8000", "阳光贸易", "重点"])
def test_search_by_initials_pinyin_phone_company_and_tag(org, as_user, query):
    c = org.customer(org.rep, "张三", phone="13800138000", company_name="阳光贸易有限公司")
    services.customer_set_tags(actor=org.rep, customer=c, tags=["重点"])
    org.customer(org.rep, "李四", phone="13900139000")
    client = as_user(org.rep)
    html = client.get(reverse("customer_list"), {"q": query}).content.decode()
    assert "张三" in html
    assert "李四" not in html


def test_live_search_returns_only_the_results_fragment(org, as_user):
    org.customer(org.rep, "张三")
    response = as_user(org.rep).get(reverse("customer_list"), {"q": "zs"}, headers=HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and "张三" in html
    assert "HX-Request" in response.headers["Vary"]


def test_filters_stage_grade_tag_owner_kind(org, as_user):
    a = org.customer(org.rep, "甲", grade="A", kind="company")
    Customer.objects.filter(pk=a.pk).update(stage=Stage.S3)
    b = org.customer(org.rep, "乙", grade="B")
    services.customer_set_tags(actor=org.rep, customer=b, tags=["展会"])
    org.customer(None, "丙")
    client = as_user(org.rep)

    def names(**params):
        html = client.get(reverse("customer_list"), params).content.decode()
        return {n for n in ("甲", "乙", "丙") if f">{n}</a>" in html}

    assert names(stage=3) == {"甲"}
    assert names(grade="B") == {"乙"}
    assert names(tag="展会") == {"乙"}
    assert names(owner="mine") == {"甲", "乙"}
    assert names(owner="pool") == {"丙"}
    assert names(kind="company") == {"甲"}
    assert names(stage="nonsense") == {"甲", "乙", "丙"}  # a bad value drops only that filter


def test_tag_filter_offers_only_tags_of_visible_customers(org, as_user):
    mine = org.customer(org.rep, "甲")
    services.customer_set_tags(actor=org.rep, customer=mine, tags=["我的标签"])
    other = org.customer(org.outsider, "乙")
    services.customer_set_tags(actor=org.outsider, customer=other, tags=["南方机密"])
    html = as_user(org.rep).get(reverse("customer_list")).content.decode()
    assert '<option value="我的标签"' in html
    assert "南方机密" not in html


def test_pagination(org, as_user):
    for i in range(30):
        org.customer(org.rep, f"客户{i:02d}")
    client = as_user(org.rep)
    first = client.get(reverse("customer_list")).content.decode()
    second = client.get(reverse("customer_list"), {"page": 2}).content.decode()
    assert first.count('data-customer="') == 25
    assert second.count('data-customer="') == 5
    assert "page=2" in first


def test_list_query_count_does_not_grow_with_rows(org, as_user, django_assert_num_queries):
    client = as_user(org.rep)
    for i in range(3):
        c = org.customer(org.rep, f"少{i}")
        services.customer_set_tags(actor=org.rep, customer=c, tags=["a", "b"])
    client.get(reverse("customer_list"))  # warm the session
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("customer_list"))
    for i in range(20):
        c = org.customer(org.rep, f"多{i}")
        services.customer_set_tags(actor=org.rep, customer=c, tags=["a", "b"])
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(reverse("customer_list"))


def test_export_buttons_carry_the_filters(org, as_user):
    client = as_user(org.rep)
    html = client.get(reverse("customer_list"), {"q": "zs", "stage": 2}).content.decode()
    export = reverse("customer_export")
    assert f"{export}?format=xlsx&amp;q=zs&amp;stage=2" in html
    assert f"{export}?format=csv&amp;q=zs&amp;stage=2" in html


# ---------- detail ----------


@pytest.mark.parametrize("viewer", ["teammate", "other_team_rep", "outsider", "lead2", "south_lead", "south_director"])
def test_detail_is_404_outside_scope(org, as_user, viewer):
    c = org.customer(org.rep, "张三")
    client = as_user(getattr(org, viewer))
    assert client.get(reverse("customer_detail", args=[c.pk])).status_code == 404


@pytest.mark.parametrize("viewer", ["rep", "lead1", "director", "admin"])
def test_detail_visible_inside_scope(org, as_user, viewer):
    c = org.customer(org.rep, "张三", phone="13800138000", bank_card="6222021234561234")
    response = as_user(getattr(org, viewer)).get(reverse("customer_detail", args=[c.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "张三" in html and "138 0013 8000" in html
    assert "6222 **** **** 1234" in html and "6222021234561234" not in html


def test_detail_needs_login(org, client):
    c = org.customer(org.rep, "张三")
    response = client.get(reverse("customer_detail", args=[c.pk]))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_detail_shows_history_with_readable_chinese_labels(org, as_user):
    c = org.customer(org.rep, "张三", city="杭州")
    services.customer_update(actor=org.rep, customer=c, data={"city": "上海", "grade": "A"})
    html = as_user(org.rep).get(reverse("customer_detail", args=[c.pk])).content.decode()
    assert "创建" in html and "修改" in html
    assert "城市" in html and "杭州" in html and "上海" in html
    assert "A：本月签约" in html  # the grade's label, not its code


def test_detail_shows_an_edited_source_field_in_the_history(org, as_user):
    """The archive's 来源 field shares its name with the follow-up marker "source": its [old, new]
    pair crashed the history (unhashable list) and the whole customer page answered 500."""
    c = org.customer(org.rep, "张三", source="event")
    services.customer_update(actor=org.rep, customer=c, data={"source": "referral"})
    response = as_user(org.rep).get(reverse("customer_detail", args=[c.pk]))
    assert response.status_code == 200
    history = response.content.decode()
    assert "来源" in history


def test_detail_query_count_does_not_grow_with_history_contacts_and_tags(org, as_user):
    c = org.customer(org.rep, "张三")
    client = as_user(org.rep)
    client.get(reverse("customer_detail", args=[c.pk]))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("customer_detail", args=[c.pk]))
    for i in range(8):
        services.customer_update(actor=org.teammate, customer=c, data={"city": f"城{i}"})
        services.contact_add(actor=org.lead1, customer=c, data={"name": f"联系人{i}"})
    services.customer_set_tags(actor=org.rep, customer=c, tags=["a", "b", "c"])
    with CaptureQueriesContext(connection) as many:
        html = client.get(reverse("customer_detail", args=[c.pk])).content.decode()
    assert "联系人7" in html and "城7" in html
    assert len(many.captured_queries) == len(few.captured_queries)


def test_detail_shows_qualification_score(org, as_user):
    c = org.customer(org.rep, "张三", qualification=["income", "credit"])
    html = as_user(org.rep).get(reverse("customer_detail", args=[c.pk])).content.decode()
    assert 'id="qualification-score">29%<' in html  # 2 of 7


def test_pool_customer_is_read_only_for_reps(org, as_user):
    c = org.customer(None, "公海客户")
    client = as_user(org.rep)
    html = client.get(reverse("customer_detail", args=[c.pk])).content.decode()
    assert "公海客户" in html
    assert reverse("customer_edit", args=[c.pk]) not in html
    assert client.get(reverse("customer_edit", args=[c.pk])).status_code == 404
    assert client.post(reverse("customer_edit", args=[c.pk]), form_data(name="改名")).status_code == 404
    assert client.post(reverse("customer_delete", args=[c.pk])).status_code == 404
    assert client.post(reverse("customer_tags", args=[c.pk]), {"tags": "x"}).status_code == 404
    assert client.post(reverse("customer_contact_add", args=[c.pk]), {"name": "x"}).status_code == 404
    c.refresh_from_db()
    assert (c.name, c.deleted_at) == ("公海客户", None)


def test_pipeline_and_aftercare_panels_load_on_the_customer_page(org, as_user):
    c = org.customer(org.rep, "张三")
    Customer.objects.filter(pk=c.pk).update(stage=5)  # after-sale panels are for signed customers only
    client = as_user(org.rep)
    html = client.get(reverse("customer_detail", args=[c.pk])).content.decode()
    assert f'hx-get="{reverse("customer_pipeline_panel", args=[c.pk])}"' in html
    assert f'hx-get="{reverse("customer_aftercare_panel", args=[c.pk])}"' in html


# ---------- unmask ----------


def test_unmask_button_only_for_permitted_users(org, as_user):
    c = org.customer(org.rep, "张三", bank_card="6222021234561234")
    assert 'id="unmask-button"' not in as_user(org.rep).get(reverse("customer_detail", args=[c.pk])).content.decode()
    assert 'id="unmask-button"' in as_user(org.admin).get(reverse("customer_detail", args=[c.pk])).content.decode()


def test_unmask_shows_full_numbers_and_is_logged(org, as_user):
    org.rep.can_unmask = True
    org.rep.save()
    c = org.customer(org.rep, "张三", bank_card="6222021234561234", id_number="110101199001011234")
    response = as_user(org.rep).post(reverse("customer_unmask", args=[c.pk]), headers=HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "6222021234561234" in html and "110101199001011234" in html
    assert CustomerChange.objects.filter(customer=c, action="unmask", actor=org.rep).count() == 1


def test_unmask_refused_without_permission_and_404_outside_scope(org, as_user):
    c = org.customer(org.rep, "张三", bank_card="6222021234561234")
    response = as_user(org.rep).post(reverse("customer_unmask", args=[c.pk]), headers=HX)
    assert response.status_code == 403 and "6222021234561234" not in response.content.decode()
    org.outsider.can_unmask = True
    org.outsider.save()
    assert as_user(org.outsider).post(reverse("customer_unmask", args=[c.pk])).status_code == 404
    assert not CustomerChange.objects.filter(customer=c, action="unmask").exists()


# ---------- create ----------


def test_create_customer(org, as_user):
    client = as_user(org.rep)
    assert client.get(reverse("customer_create")).status_code == 200
    response = client.post(
        reverse("customer_create"),
        form_data(name="王五", phone="138 0013 8000", tags="展会， 重点跟进", birth_date="1980-05-01",
                  expected_sign_month="2026-12", qualification=["income", "cash_flow"], bank_card="6222 0212 3456 1234"),
    )  # fmt: skip
    c = Customer.objects.get(name="王五")
    assert response.status_code == 302 and response["Location"] == reverse("customer_detail", args=[c.pk])
    assert c.owner == org.rep and c.phone_normalized == "+8613800138000"
    assert sorted(t.name for t in c.tags.all()) == ["展会", "重点跟进"]
    assert c.expected_sign_month.isoformat() == "2026-12-01"
    assert c.qualification == ["income"]  # cash_flow is a company item
    assert c.bank_card == "6222021234561234"


def test_create_refuses_duplicate_phone_naming_the_existing_record(org, as_user):
    existing = org.customer(org.rep, "张三", phone="13800138000")
    response = as_user(org.rep).post(reverse("customer_create"), form_data(name="王五", phone="+86 138-0013-8000"))
    html = response.content.decode()
    assert response.status_code == 400
    assert existing.archive_no in html and "张三" in html
    assert 'value="王五"' in html  # the input is kept
    assert not Customer.objects.filter(name="王五").exists()


def test_create_refuses_bad_phone_and_missing_name(org, as_user):
    client = as_user(org.rep)
    response = client.post(reverse("customer_create"), form_data(phone="12"))
    assert response.status_code == 400 and "不是有效的电话号码" in response.content.decode()
    response = client.post(reverse("customer_create"), form_data(name=""))
    assert response.status_code == 400
    assert not Customer.objects.exists()


def test_same_name_is_a_warning_after_save(org, as_user):
    existing = org.customer(org.rep, "张三")
    client = as_user(org.rep)
    response = client.post(reverse("customer_create"), form_data(name="张三"), follow=True)
    assert Customer.objects.filter(name="张三").count() == 2
    assert existing.archive_no in response.content.decode()


def test_lead_may_create_for_a_team_member_but_not_outside(org, as_user):
    client = as_user(org.lead1)
    client.post(reverse("customer_create"), form_data(name="给队员", owner=org.teammate.pk))
    assert Customer.objects.get(name="给队员").owner == org.teammate
    response = client.post(reverse("customer_create"), form_data(name="给外人", owner=org.outsider.pk))
    assert response.status_code == 400 and not Customer.objects.filter(name="给外人").exists()


def test_rep_cannot_choose_an_owner(org, as_user):
    client = as_user(org.rep)
    assert 'name="owner"' not in client.get(reverse("customer_create")).content.decode()
    client.post(reverse("customer_create"), form_data(name="我的", owner=org.teammate.pk))
    assert Customer.objects.get(name="我的").owner == org.rep


# ---------- edit ----------


def edit_post(customer: Customer, **overrides) -> dict:
    customer.refresh_from_db()
    return form_data(**{"name": customer.name, "version": customer.version, "kind": customer.kind, **overrides})


def test_edit_customer(org, as_user):
    c = org.customer(org.rep, "张三", bank_card="6222021234561234")
    client = as_user(org.rep)
    page = client.get(reverse("customer_edit", args=[c.pk])).content.decode()
    assert 'value="张三"' in page and "6222021234561234" not in page  # never pre-filled in full
    response = client.post(reverse("customer_edit", args=[c.pk]), edit_post(c, city="杭州", tags="老客户"))
    assert response.status_code == 302
    c.refresh_from_db()
    assert c.city == "杭州" and [t.name for t in c.tags.all()] == ["老客户"]
    assert c.bank_card == "6222021234561234"  # empty input keeps the stored number


def test_form_covers_every_editable_field_once():
    from yixiang.customers.forms import FIELDSETS

    grouped = [name for _key, _title, names in FIELDSETS for name in names]
    assert sorted(grouped) == sorted(services.EDITABLE_FIELDS)


def test_edit_form_prefills_dates_in_input_formats(org, as_user):
    c = org.customer(org.rep, "张三", birth_date=dt.date(1980, 5, 1), expected_sign_month=dt.date(2026, 12, 1))
    html = as_user(org.rep).get(reverse("customer_edit", args=[c.pk])).content.decode()
    assert 'type="date" name="birth_date" value="1980-05-01"' in html
    assert 'type="month" name="expected_sign_month" value="2026-12"' in html


def test_edit_can_clear_a_sensitive_number(org, as_user):
    c = org.customer(org.rep, "张三", bank_card="6222021234561234")
    as_user(org.rep).post(reverse("customer_edit", args=[c.pk]), edit_post(c, clear_bank_card="on"))
    c.refresh_from_db()
    assert c.bank_card == ""


def test_stale_edit_shows_conflict_and_keeps_input(org, as_user):
    c = org.customer(org.rep, "张三")
    stale = edit_post(c, city="杭州")
    services.customer_update(actor=org.teammate, customer=c, data={"city": "上海"})
    client = as_user(org.rep)
    response = client.post(reverse("customer_edit", args=[c.pk]), stale)
    html = response.content.decode()
    assert response.status_code == 409
    assert "其他人" in html  # the conflict message
    assert 'value="杭州"' in html  # the user's input is kept
    assert 'id="conflict-diff"' in html and "上海" in html
    c.refresh_from_db()
    assert c.city == "上海"
    # Saving again on purpose applies the user's values on top of the current version.
    again = {**stale, "version": str(c.version)}
    assert client.post(reverse("customer_edit", args=[c.pk]), again).status_code == 302
    c.refresh_from_db()
    assert c.city == "杭州"


def test_edit_refuses_duplicate_phone(org, as_user):
    org.customer(org.rep, "张三", phone="13800138000")
    c = org.customer(org.rep, "李四", phone="13900139000")
    response = as_user(org.rep).post(reverse("customer_edit", args=[c.pk]), edit_post(c, phone="13800138000"))
    assert response.status_code == 400 and "张三" in response.content.decode()
    c.refresh_from_db()
    assert c.phone_normalized == "+8613900139000"


@pytest.mark.parametrize("viewer", ["teammate", "other_team_rep", "outsider", "south_director"])
def test_edit_404_outside_scope(org, as_user, viewer):
    c = org.customer(org.rep, "张三")
    client = as_user(getattr(org, viewer))
    assert client.get(reverse("customer_edit", args=[c.pk])).status_code == 404
    assert client.post(reverse("customer_edit", args=[c.pk]), edit_post(c, name="改")).status_code == 404
    c.refresh_from_db()
    assert c.name == "张三"


def test_lead_may_edit_team_customer(org, as_user):
    c = org.customer(org.rep, "张三")
    assert as_user(org.lead1).post(reverse("customer_edit", args=[c.pk]), edit_post(c, city="南京")).status_code == 302
    c.refresh_from_db()
    assert c.city == "南京"


# ---------- delete, trash, restore ----------


def test_delete_trash_restore(org, as_user):
    c = org.customer(org.rep, "张三")
    client = as_user(org.rep)
    assert client.get(reverse("customer_delete", args=[c.pk])).status_code == 405
    assert client.post(reverse("customer_delete", args=[c.pk])).status_code == 302
    c.refresh_from_db()
    assert c.deleted_at is not None
    assert ">张三</a>" not in client.get(reverse("customer_list")).content.decode()
    assert ">张三</a>" in client.get(reverse("customer_trash")).content.decode()
    assert client.post(reverse("customer_restore", args=[c.pk])).status_code == 302
    c.refresh_from_db()
    assert c.deleted_at is None
    assert ">张三</a>" not in client.get(reverse("customer_trash")).content.decode()


def test_deleted_customer_page_is_readable_and_offers_restore(org, as_user):
    c = org.customer(org.rep, "张三")
    services.customer_soft_delete(actor=org.rep, customer=c)
    html = as_user(org.rep).get(reverse("customer_detail", args=[c.pk])).content.decode()
    assert "在回收站中" in html and 'id="restore-customer"' in html
    assert 'id="edit-customer"' not in html and 'id="tags-form"' not in html and 'id="contact-form"' not in html
    assert as_user(org.outsider).get(reverse("customer_detail", args=[c.pk])).status_code == 404


@pytest.mark.parametrize("viewer", ["teammate", "other_team_rep", "outsider"])
def test_delete_and_restore_404_outside_scope(org, as_user, viewer):
    c = org.customer(org.rep, "张三")
    gone = org.customer(org.rep, "李四")
    services.customer_soft_delete(actor=org.rep, customer=gone)
    client = as_user(getattr(org, viewer))
    assert client.post(reverse("customer_delete", args=[c.pk])).status_code == 404
    assert client.post(reverse("customer_restore", args=[gone.pk])).status_code == 404
    assert "李四" not in client.get(reverse("customer_trash")).content.decode()
    c.refresh_from_db()
    gone.refresh_from_db()
    assert c.deleted_at is None and gone.deleted_at is not None


# ---------- tags and contacts (htmx) ----------


def test_tags_fragment(org, as_user):
    c = org.customer(org.rep, "张三")
    response = as_user(org.rep).post(reverse("customer_tags", args=[c.pk]), {"tags": "展会、重点, 展会"}, headers=HX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert "展会" in html and "重点" in html
    assert sorted(t.name for t in c.tags.all()) == ["展会", "重点"]


def test_too_long_tag_is_refused_with_a_message(org, as_user):
    c = org.customer(org.rep, "张三")
    response = as_user(org.rep).post(reverse("customer_tags", args=[c.pk]), {"tags": "长" * 51}, headers=HX)
    assert "50" in response.content.decode()
    assert not c.tags.exists()


def test_contacts_add_and_remove(org, as_user):
    c = org.customer(org.rep, "阳光公司", kind="company")
    client = as_user(org.rep)
    response = client.post(
        reverse("customer_contact_add", args=[c.pk]),
        {"name": "赵经理", "title": "总经理", "phone": "13700137000", "is_decision_maker": "on"},
        headers=HX,
    )
    assert response.status_code == 200 and "赵经理" in response.content.decode()
    contact = c.contacts.get()
    assert contact.is_decision_maker
    response = client.post(reverse("customer_contact_remove", args=[c.pk, contact.pk]), headers=HX)
    assert "赵经理" not in response.content.decode()
    assert not c.contacts.exists()
    assert CustomerChange.objects.filter(customer=c, action="contacts").count() == 2


def test_contact_without_name_shows_error(org, as_user):
    c = org.customer(org.rep, "阳光公司")
    response = as_user(org.rep).post(reverse("customer_contact_add", args=[c.pk]), {"name": ""}, headers=HX)
    assert response.status_code == 200 and 'class="error"' in response.content.decode()
    assert not c.contacts.exists()


def test_contact_remove_404_outside_scope(org, as_user):
    c = org.customer(org.rep, "阳光公司")
    contact = services.contact_add(actor=org.rep, customer=c, data={"name": "赵经理"})
    response = as_user(org.outsider).post(reverse("customer_contact_remove", args=[c.pk, contact.pk]))
    assert response.status_code == 404
    assert c.contacts.count() == 1


def test_detail_shows_the_latest_history_and_loads_older_entries_on_request(org, as_user):
    c = org.customer(org.rep, "张三")
    for i in range(64):
        services.customer_update(actor=org.rep, customer=Customer.objects.get(pk=c.pk), data={"notes": f"备注第{i}次"})
    client = as_user(org.rep)
    html = client.get(reverse("customer_detail", args=[c.pk])).content.decode()
    assert "→</span>备注第63次" in html and "→</span>备注第54次" in html and "→</span>备注第53次" not in html
    more = reverse("customer_history", args=[c.pk]) + "?offset=10"
    assert more in html
    older = client.get(more).content.decode()  # entries 53 … 4, then the next button
    assert "→</span>备注第53次" in older and "→</span>备注第4次" in older and "→</span>备注第3次" not in older
    assert "?offset=60" in older
    last = client.get(reverse("customer_history", args=[c.pk]) + "?offset=60").content.decode()
    assert "备注第0次" in last and "创建" in last and "offset=" not in last
    theirs = org.customer(org.outsider, "别人")
    assert client.get(reverse("customer_history", args=[theirs.pk])).status_code == 404
