import threading

import pytest
from django.db import connection

from yixiang.customers import services
from yixiang.customers.models import Customer, CustomerChange
from yixiang.errors import Conflict, DomainError, ValidationFailed

pytestmark = pytest.mark.django_db


def test_history_records_masked_sensitive_values(org):
    c = org.customer(org.rep, "张三")
    services.customer_update(actor=org.rep, customer=c, data={"bank_card": "6222021234561234", "city": "杭州"})
    change = CustomerChange.objects.filter(customer=c, action="update").get()
    assert change.changes["bank_card"] == ["", "6222 **** **** 1234"]
    assert change.changes["city"] == ["", "杭州"]
    assert change.actor == org.rep


def test_no_change_no_history_and_no_version_bump(org):
    c = org.customer(org.rep, "张三", city="杭州")
    after = services.customer_update(actor=org.rep, customer=c, data={"city": "杭州"})
    assert after.version == c.version
    assert not CustomerChange.objects.filter(customer=c, action="update").exists()


def test_rename_updates_pinyin_keys(org):
    c = org.customer(org.rep, "张三")
    c = services.customer_update(actor=org.rep, customer=c, data={"name": "李四"})
    assert (c.name_pinyin, c.name_initials) == ("lisi", "ls")


def test_archive_numbers_are_unique_and_sequential(org):
    a = org.customer(org.rep, "甲")
    b = org.customer(org.rep, "乙")
    assert int(b.archive_no[-6:]) == int(a.archive_no[-6:]) + 1


def test_rep_cannot_assign_to_someone_else(org):
    with pytest.raises(DomainError):
        services.customer_create(actor=org.rep, data={"name": "x"}, owner=org.teammate)
    assert not Customer.objects.exists()


def test_lead_assigns_within_team(org):
    c = services.customer_create(actor=org.lead1, data={"name": "x"}, owner=org.teammate)
    assert c.owner == org.teammate
    with pytest.raises(DomainError):
        services.customer_create(actor=org.lead1, data={"name": "y"}, owner=org.outsider)


def test_phone_change_to_taken_number_refused_and_nothing_changes(org):
    org.customer(org.rep, "甲", phone="13800138000")
    b = org.customer(org.rep, "乙", phone="13900139000")
    with pytest.raises(Conflict):
        services.customer_update(actor=org.rep, customer=b, data={"phone": "13800138000", "city": "上海"})
    b.refresh_from_db()
    assert (b.phone_normalized, b.city) == ("+8613900139000", "")


def test_empty_name_refused(org):
    with pytest.raises(ValidationFailed):
        services.customer_create(actor=org.rep, data={"name": "  "}, owner=org.rep)


@pytest.mark.django_db(transaction=True)
def test_concurrent_edits_one_wins_other_gets_conflict(org):
    """Two users save edits based on the same version at once: one wins, the other is told."""
    c = org.customer(org.rep, "张三")
    results: list[str] = []
    barrier = threading.Barrier(2)

    def edit(city):
        try:
            barrier.wait()
            services.customer_update(actor=org.rep, customer=c, data={"city": city}, expected_version=c.version)
            results.append("ok")
        except Conflict:
            results.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=edit, args=(city,)) for city in ("上海", "北京")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["conflict", "ok"]
    c.refresh_from_db()
    assert c.version == 2
