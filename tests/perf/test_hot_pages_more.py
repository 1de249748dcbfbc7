"""More query-count guards (issue 7): the customer page's lazy histories, the follow-up and contract
lists, the pool page, care, campaigns, incentive statements and the report pages. Same pattern as
test_hot_pages.py: count, add rows the page shows, count again — the number must not move."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.perf.test_hot_pages import _busy_team, api, assert_flat, customer, follow_ups, html_rows, web
from yixiang.customers import services as customer_services

pytestmark = pytest.mark.django_db


def test_customer_history_fragment(org):
    """Older history entries of the customer page, loaded on request, a page at a time."""
    c = customer(org, org.rep, "王伟", 1)
    get = web(org.rep)
    edits = iter(range(1000))

    def grow():
        for _ in range(12):
            current = type(c).objects.get(pk=c.pk)
            customer_services.customer_update(actor=org.rep, customer=current, data={"notes": f"备注{next(edits)}"})

    grow()
    assert_flat(lambda: get(f"/customers/{c.pk}/history/?offset=0"), grow, shown=html_rows("备注"), ceiling=5)


@pytest.mark.parametrize("kind", ["follow_ups", "stage_changes"])
def test_customer_pipeline_history_fragment(org, kind):
    """Older follow-ups and stage changes of the pipeline panel, loaded on request."""
    c = customer(org, org.rep, "王伟", 1)
    follow_ups(org.rep, c, 3)
    get = web(org.rep)

    def grow():
        # Back to stage 0 (no StageChange) so the next follow-ups lift it again, four changes a round.
        for _ in range(2):
            type(c).objects.filter(pk=c.pk).update(stage=0)
            follow_ups(org.rep, c, 4)

    marker = "fu-summary" if kind == "follow_ups" else "list-row"
    assert_flat(
        lambda: get(f"/customers/{c.pk}/pipeline/history/{kind}/?offset=0"), grow, shown=html_rows(marker), ceiling=5
    )


def test_followup_list_api(org):
    c = customer(org, org.rep, "王伟", 1)
    follow_ups(org.rep, c, 3)
    get = api(org.rep)
    assert_flat(
        lambda: get(f"/api/v1/customers/{c.pk}/follow-ups"),
        lambda: follow_ups(org.rep, c, 9, rise=False),
        shown=lambda r: len(r.json()["items"]) if isinstance(r.json(), dict) else len(r.json()),
        ceiling=7,
    )


def _contracts(org, c, numbers, how_many: int = 3) -> None:
    from yixiang.aftercare import services_contracts as aftercare_contracts

    today = timezone.localdate()
    for _ in range(how_many):
        n = next(numbers)
        aftercare_contracts.contract_create(
            actor=org.rep, customer=c, name=f"项目{n}", number=f"HT-PERF-{n}", start_date=today,
            end_date=today + dt.timedelta(days=20 + n % 30), amount="20000",
            payouts=[(today + dt.timedelta(days=10 * k), "500") for k in range(1, 4)],
        )  # fmt: skip


def test_contract_list_api(org):
    c = customer(org, org.rep, "王伟", 1)
    numbers = iter(range(1000))
    _contracts(org, c, numbers)
    get = api(org.rep)
    assert_flat(
        lambda: get(f"/api/v1/customers/{c.pk}/contracts"),
        lambda: _contracts(org, c, numbers),
        shown=lambda r: sum(len(x["payouts"]) for x in r.json()),
        ceiling=7,
    )


def test_pool_page(org):
    get = web(org.rep)
    made = iter(range(1000))
    grow = lambda: [customer(org, None, f"公海{n}", n, tags=2) for n in [next(made) for _ in range(10)]]  # noqa: E731
    grow()
    assert_flat(lambda: get("/pool/"), grow, shown=html_rows("公海"), ceiling=9)


def _care_rows(org, made) -> None:
    """Customers of the rep with a birthday, a contract (payouts, contract end) and care tasks."""
    from yixiang.aftercare.models import CareTask
    from yixiang.aftercare.services import tasks_create

    today = timezone.localdate()
    for n in [next(made) for _ in range(4)]:
        c = customer(org, org.rep, f"关怀{n}", 500 + n)
        type(c).objects.filter(pk=c.pk).update(birth_date=today.replace(year=1980) + dt.timedelta(days=n % 5))
        _contracts(org, c, iter([n]), 1)
        tasks_create(
            [
                CareTask(kind="birthday", customer=c, rep=org.rep, due_on=today + dt.timedelta(days=k),
                         title=f"关怀任务{n}-{k}", source_key=f"perf-{n}-{k}")
                for k in range(2)
            ]
        )  # fmt: skip


def test_care_page_and_api(org):
    made = iter(range(1000))
    _care_rows(org, made)
    page = web(org.rep)
    assert_flat(lambda: page("/care/"), lambda: _care_rows(org, made), shown=html_rows("关怀"), ceiling=10)
    get = api(org.rep)
    assert_flat(lambda: get("/api/v1/care"), lambda: _care_rows(org, made), shown=lambda r: len(r.json()), ceiling=5)


def test_campaign_list_page_and_api(org):
    from yixiang.aftercare import services_campaigns as aftercare_campaigns

    made = iter(range(1000))

    def grow():
        for n in [next(made) for _ in range(5)]:
            aftercare_campaigns.campaign_create(actor=org.rep, name=f"活动{n}", template="{name}您好")

    grow()
    page = web(org.rep)
    assert_flat(lambda: page("/campaigns/"), grow, shown=html_rows("活动"), ceiling=7)
    get = api(org.rep)
    assert_flat(lambda: get("/api/v1/campaigns"), grow, shown=lambda r: len(r.json()), ceiling=5)


@pytest.fixture
def statements(org):
    """Last month's assessments and developed customers for the rep's team (built on demand)."""
    import importlib

    from django.apps import apps

    from yixiang.accounts.models import Role, User
    from yixiang.incentives.models import SchemeVersion
    from yixiang.incentives.tests.factories import assess, developed
    from yixiang.testing import make_user

    if not SchemeVersion.objects.exists():
        importlib.import_module("yixiang.incentives.migrations.0002_seed_scheme").seed(apps, None)
    User.objects.update(hire_date=dt.date(2010, 1, 1))
    month = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    counter = iter(range(1000))

    def grow(how_many: int = 3):
        for _ in range(how_many):
            k = next(counter)
            member = make_user(f"member{k}", Role.REP, team=org.n1)
            User.objects.filter(pk=member.pk).update(hire_date=dt.date(2010, 1, 1))
            member.refresh_from_db()
            assess(member, month, 2, pay=3000)
            for j in range(2):
                developed(org, member, 8000 + j, month + dt.timedelta(days=j + 1), name=f"成员{k}客户{j}")

    grow(2)
    return month, grow


def test_incentive_statements_page_and_api(org, statements):
    month, grow = statements
    page = web(org.lead1)
    shown = html_rows("member")
    # 16: the month's bounds (first scheme version), its reward funds and which lines' customers the
    # reader may open are read once each.
    assert_flat(lambda: page(f"/incentives/?month={month:%Y-%m}"), grow, shown=shown, ceiling=16)
    get = api(org.lead1)
    assert_flat(
        lambda: get("/api/v1/incentives/statements", month=f"{month:%Y-%m}"),
        grow,
        shown=lambda r: len(r.json()),
        ceiling=14,  # the month's bounds and reward funds, one read each
    )


# Ceilings are today's counts (flat, but high for the activity page: one query per figure; the
# incentives page also reads the months' bounds and reward funds).
@pytest.mark.parametrize(
    ("path", "ceiling"), [("/reports/activity/", 29), ("/reports/aftercare/", 16), ("/reports/incentives/", 21)]
)
def test_report_pages_for_a_region(org, path, ceiling):
    _busy_team(org, 2, 0)
    page = web(org.director)
    counter = iter(range(2, 1000, 3))
    assert_flat(
        lambda: page(f"{path}?region={org.north.pk}"),
        lambda: _busy_team(org, 3, next(counter)),
        shown=html_rows("member"),
        ceiling=ceiling,
    )


def test_aftercare_panel_of_a_customer_with_every_kind_of_row(org):
    """The after-sale panel skips the kinds a customer has none of; with every kind present the
    count is still fixed (one query per kind) and does not follow the rows."""
    from yixiang.aftercare import services as aftercare_services
    from yixiang.aftercare import services_contracts as aftercare_contracts
    from yixiang.aftercare import services_loyalty as aftercare_loyalty
    from yixiang.aftercare.models import CareTask
    from yixiang.aftercare.tests.factories import sign

    c = sign(customer(org, org.rep, "王伟", 1))
    today = timezone.localdate()
    made = iter(range(1000))
    # One level up at a time, each step with evidence (a note); a fall may be any distance.
    levels = iter(["satisfied", "very_satisfied", "loyal", "indifferent", "satisfied", "very_satisfied"])

    def grow():
        _contracts(org, c, made, 1)
        for _ in range(2):
            n = next(made)
            aftercare_contracts.payment_record(actor=org.rep, customer=c, paid_on=today, amount="100")
            aftercare_contracts.shipment_record(actor=org.rep, customer=c, shipped_on=today, order_no=f"SH-PERF-{n}")
            aftercare_services.gift_log(actor=org.rep, customer=c, item=f"礼物{n}", cost="50")
            aftercare_services.life_event_add(actor=org.rep, customer=c, kind="promotion", on=today, note=f"升职{n}")
            aftercare_loyalty.loyalty_set(actor=org.rep, customer=c, level=next(levels), note=f"证据{n}")
            aftercare_loyalty.referral_ask_log(actor=org.rep, customer=c, prerequisites=[], outcome="declined")
            aftercare_services.tasks_create(
                [CareTask(kind="birthday", customer=c, rep=org.rep, due_on=today, title=f"任务{n}", source_key=f"p{n}")]
            )
            referred = customer(org, org.rep, f"转介绍{n}", 300 + n)
            type(c).objects.filter(pk=referred.pk).update(referrer=c)

    grow()
    page = web(org.rep)
    assert_flat(
        lambda: page(f"/customers/{c.pk}/aftercare/panel/"),
        grow,
        shown=lambda r: sum(r.content.decode().count(m) for m in ("SH-PERF-", "礼物", "升职", "转介绍", "HT-PERF-")),
        ceiling=19,
    )
