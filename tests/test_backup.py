"""manage.py backup / restore: a round trip gives identical data (SQLite and PostgreSQL)."""

import pytest
from django.core.management import call_command

from yixiang.backup import fingerprint
from yixiang.customers import services
from yixiang.customers.models import Customer

pytestmark = pytest.mark.django_db(transaction=True)


def test_round_trip_restores_identical_data(org, tmp_path):
    c = org.customer(org.rep, "张三", phone="13800138000", bank_card="6222021234561234")
    org.customer(org.teammate, "李四")
    before = fingerprint()
    out = tmp_path / "snap.bak"
    call_command("backup", output=str(out))
    assert out.stat().st_size > 0

    services.customer_update(actor=org.rep, customer=c, data={"city": "杭州"})
    org.customer(org.rep, "王五")
    assert fingerprint() != before

    call_command("restore", str(out), yes=True)
    assert fingerprint() == before
    restored = Customer.objects.get(pk=c.pk)
    assert restored.city == "" and restored.bank_card == "6222021234561234"
    assert not Customer.objects.filter(name="王五").exists()


def test_restore_of_a_missing_or_broken_file_changes_nothing(org, tmp_path):
    from django.core.management.base import CommandError

    org.customer(org.rep, "张三")
    before = fingerprint()
    with pytest.raises(CommandError):
        call_command("restore", str(tmp_path / "nope.bak"), yes=True)
    bad = tmp_path / "bad.bak"
    bad.write_bytes(b"this is not a backup" * 100)
    with pytest.raises(CommandError):
        call_command("restore", str(bad), yes=True)
    assert fingerprint() == before
