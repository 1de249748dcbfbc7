"""The one scoping helper: who sees which customers and staff."""

import pytest
from django.http import Http404

from yixiang.accounts import scoping
from yixiang.customers import scoping as customer_scoping

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(org):
    return {
        "rep": org.customer(org.rep, "甲"),
        "teammate": org.customer(org.teammate, "乙"),
        "other_team": org.customer(org.other_team_rep, "丙"),
        "south": org.customer(org.outsider, "丁"),
        "pool": org.customer(None, "戊"),
    }


def names(qs):
    return sorted(qs.values_list("name", flat=True))


def test_rep_sees_own_and_pool(org, book):
    assert names(customer_scoping.visible_customers(org.rep)) == sorted(["甲", "戊"])
    assert names(customer_scoping.editable_customers(org.rep)) == ["甲"]


def test_lead_sees_team(org, book):
    assert names(customer_scoping.visible_customers(org.lead1)) == sorted(["甲", "乙", "戊"])
    assert names(customer_scoping.editable_customers(org.lead1)) == sorted(["甲", "乙"])


def test_director_sees_region(org, book):
    assert names(customer_scoping.visible_customers(org.director)) == sorted(["甲", "乙", "丙", "戊"])
    assert names(customer_scoping.visible_customers(org.south_director)) == sorted(["丁", "戊"])


def test_admin_sees_all(org, book):
    assert len(names(customer_scoping.visible_customers(org.admin))) == 5
    assert len(names(customer_scoping.editable_customers(org.admin))) == 5


def test_inactive_user_sees_nothing(org, book):
    org.rep.is_active = False
    org.rep.save()
    assert names(customer_scoping.visible_customers(org.rep)) == []


def test_access_customer_same_404_for_absent_and_foreign(org, book):
    with pytest.raises(Http404):
        customer_scoping.access_customer(org.rep, book["south"].pk)
    with pytest.raises(Http404):
        customer_scoping.access_customer(org.rep, 999999)
    with pytest.raises(Http404):
        customer_scoping.access_customer(org.rep, book["pool"].pk, for_change=True)
    assert customer_scoping.access_customer(org.rep, book["pool"].pk).name == "戊"


def test_deleted_customers_hidden_unless_asked(org, book):
    from yixiang.customers.services import customer_soft_delete

    customer_soft_delete(actor=org.rep, customer=book["rep"])
    assert "甲" not in names(customer_scoping.visible_customers(org.rep))
    assert "甲" in names(customer_scoping.visible_customers(org.rep, include_deleted=True))


def test_staff_in_scope(org):
    def users(u):
        return sorted(scoping.staff_in_scope(u).values_list("username", flat=True))

    assert users(org.rep) == ["rep"]
    assert users(org.lead1) == ["lead1", "rep", "teammate"]
    assert users(org.director) == ["director", "lead1", "lead2", "other_team_rep", "rep", "teammate"]
    assert "outsider" in users(org.admin)


def test_may_change_customer_agrees_with_editable_customers(org, book):
    """The loaded-row shortcut gives the same answer as the queryset, for every role and customer,
    also for customers in the trash, a lead's and a director's own customers, and inactive users."""
    from yixiang.customers.models import Customer

    book["lead"] = org.customer(org.lead1, "己")
    book["director"] = org.customer(org.director, "庚")
    trashed = org.customer(org.rep, "辛")
    Customer.objects.filter(pk=trashed.pk).update(deleted_at="2026-01-01T00:00:00Z")
    book["trashed"] = Customer.objects.get(pk=trashed.pk)
    users = [org.admin, org.director, org.south_director, org.lead1, org.lead2, org.rep, org.teammate, org.outsider]
    checked = 0
    for user in users:
        for include_deleted in (False, True):
            editable = set(
                customer_scoping.editable_customers(user, include_deleted=include_deleted).values_list("pk", flat=True)
            )
            for key, customer in book.items():
                got = customer_scoping.may_change_customer(user, customer, include_deleted=include_deleted)
                assert got == (customer.pk in editable), (user.username, key, include_deleted)
                checked += got
    assert checked > len(users)  # some yes answers, not only refusals
    org.rep.is_active = False
    assert not customer_scoping.may_change_customer(org.rep, book["rep"])
