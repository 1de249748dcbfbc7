"""The benchmark's data generator (bench/generate.py) on a small scale: the rows it writes straight
into the migrated tables must be what the application itself would have written, so the figures
measured on them mean something. Also catches a model change the generator does not know about."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter, defaultdict

import pytest
from django.utils import timezone

from bench.generate import check_references, generate
from yixiang.accounts.models import Role, User
from yixiang.aftercare.models import Contract, Payment, Payout
from yixiang.customers import rules as customer_rules
from yixiang.customers import services as customer_services
from yixiang.customers.models import Customer
from yixiang.pipeline import rules
from yixiang.pipeline.conf import conf
from yixiang.pipeline.models import FollowUp, OwnerChange, StageChange
from yixiang.pipeline.selectors import work_calendar

pytestmark = pytest.mark.django_db(transaction=False)

N = 2000


@pytest.fixture
def gen():
    return generate(customers=N, threaded=False, out=io.StringIO())


def test_the_generated_data_set_is_consistent(gen):
    scale_staff_and_references()
    tracked_lists_follow_the_method_targets()
    histories_are_consistent_with_each_customer()
    signed_customers_have_contracts_payouts_and_payments()
    owners_phones_and_search_keys_match_the_archive_rules()


def scale_staff_and_references():
    assert Customer.objects.count() == N
    assert User.objects.filter(role=Role.REP).count() == 2  # one rep per 1,000 customers
    assert User.objects.filter(role=Role.LEAD).count() == 1
    assert User.objects.filter(role=Role.DIRECTOR).count() == 1
    assert check_references() == []


def tracked_lists_follow_the_method_targets():
    for rep in User.objects.filter(role=Role.REP):
        counts = Counter(Customer.objects.filter(owner=rep).values_list("stage", flat=True))
        bands = {b.band: b.count for b in rules.tracked_balance(counts, {"0": 20, "1-2": 40, "3-4": 10}, 0.25)}
        assert 14 <= bands["0"] <= 26 and 28 <= bands["1-2"] <= 52 and 7 <= bands["3-4"] <= 13, bands
        assert 100 <= counts[5] <= 200  # E class: about 15 % of the rep's thousand
    assert Customer.objects.filter(owner__isnull=True).count() > N / 2  # the public pool


def histories_are_consistent_with_each_customer():
    today = timezone.localdate()
    calendar = work_calendar(dt.date(2000, 1, 1), today + dt.timedelta(days=400))
    follow = defaultdict(list)
    for row in FollowUp.objects.order_by("customer_id", "at", "pk").values_list(
        "customer_id", "at", "effective", "stage_before", "stage_after", "next_contact_on"
    ):
        follow[row[0]].append(row[1:])
    changes = defaultdict(list)
    for cid, frm, to, at in StageChange.objects.order_by("customer_id", "at", "pk").values_list(
        "customer_id", "from_stage", "to_stage", "at"
    ):
        changes[cid].append((frm, to, at))
    worked = 0
    for c in Customer.objects.all():
        rows = follow.get(c.pk, [])
        if not rows:  # a fresh lead nobody has worked: as the import leaves it
            assert c.owner_id is None and c.last_contact_at is None and c.stage == 0 and not changes[c.pk]
            continue
        assert changes[c.pk][-1][1] == c.stage  # the last stage change leads to the current stage
        worked += 1
        assert 10 <= len(rows) <= 30
        assert all(b == a for (_, _, _, a, _), (_, _, b, _, _) in zip(rows, rows[1:], strict=False))
        assert rows[-1][3] == c.stage
        assert c.last_contact_at == max(at for at, eff, *_ in rows if eff)
        assert [(f, t) for f, t, _ in changes[c.pk][1:]] == [(b, a) for _, _, b, a, _ in rows if a != b]
        if c.owner_id is not None:
            due = rules.next_due_on(
                stage=c.stage,
                last_effective_contact=timezone.localtime(c.last_contact_at).date(),
                planned_next=rows[-1][4],
                today=today,
                cadence=conf("CADENCE_DAYS"),
                calendar=calendar,
                shift_holidays=conf("HOLIDAY_SHIFT"),
                slower_shift=conf("HOLIDAY_SHIFT_SLOWER"),
            )
            assert c.next_due_on == due
        if c.stage == 5:
            assert c.signed_at == next(at for _, to, at in changes[c.pk] if to == 5)
    assert worked > 0.8 * N


def signed_customers_have_contracts_payouts_and_payments():
    signed = Customer.objects.filter(stage=5)
    assert signed.exists()
    assert not signed.filter(contracts__isnull=True).exists()
    assert Payout.objects.count() == 4 * Contract.objects.count()
    assert Payment.objects.filter(customer__stage=5).values("customer").distinct().count() == signed.count()
    referred = Customer.objects.filter(referrer__isnull=False)
    assert referred.exists() and not referred.exclude(referrer__stage=5).exists()


def owners_phones_and_search_keys_match_the_archive_rules():
    for c in Customer.objects.exclude(owner=None).order_by("?")[:200]:
        last = OwnerChange.objects.filter(customer=c).order_by("-at", "-pk").first()
        assert last is not None and last.to_owner_id == c.owner_id
    phones = list(Customer.objects.exclude(phone_normalized=None).values_list("phone", "phone_normalized"))
    assert len({p for _, p in phones}) == len(phones)
    for shown, key in phones[:300]:
        assert customer_rules.normalize_phone(shown) == key
    for name, full, initials in Customer.objects.values_list("name", "name_pinyin", "name_initials")[:300]:
        assert customer_rules.pinyin_keys(name) == (full, initials)


def test_the_application_keeps_working_on_generated_data(gen):
    """New archive numbers do not collide, the recycling job finds its share, agendas are full."""
    from yixiang.pipeline import pool, selectors

    admin = User.objects.get(username="admin")
    new = customer_services.customer_create(actor=admin, data={"name": "新客户"}, owner=None)
    assert new.archive_no.startswith(f"KH{timezone.localdate().year}")
    rep = User.objects.filter(role=Role.REP).first()
    assert len(selectors.agenda_items(user=rep, day=timezone.localdate())) >= 5
    tracked = Customer.objects.filter(owner__isnull=False).exclude(stage=5).count()
    result = pool.recycle_run(today=timezone.localdate() + dt.timedelta(days=0))
    assert 0 < result.recycled < 0.2 * tracked
