"""Small builders for incentive test data, on top of the shared ``org`` fixture."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from yixiang.accounts.models import User
from yixiang.aftercare.models import Payment, Shipment
from yixiang.incentives.models import Assessment, DevelopedCustomer

_seq = iter(range(1, 10**9))


def developed(
    org,
    developer: User,
    amount: int | str,
    paid_on: dt.date,
    *,
    name: str | None = None,
    reported_on: dt.date | None = None,
    extra_payments: tuple[tuple[dt.date, int], ...] = (),
) -> DevelopedCustomer:
    """A customer of ``developer`` whose first payment is ``amount`` on ``paid_on``, recorded as developed."""
    customer = org.customer(developer, name or f"客户{next(_seq)}")
    Payment.objects.create(customer=customer, paid_on=paid_on, amount=Decimal(str(amount)))
    for day, more in extra_payments:
        Payment.objects.create(customer=customer, paid_on=day, amount=Decimal(str(more)))
    return DevelopedCustomer.objects.create(
        customer=customer,
        developer=developer,
        month=paid_on.replace(day=1),
        reported_on=reported_on or paid_on,
    )


def ship(dev: DevelopedCustomer, *days: dt.date) -> None:
    for day in days:
        Shipment.objects.create(customer=dev.customer, shipped_on=day)


def assess(
    user: User,
    month: dt.date,
    threshold: int | None = 2,
    pay: int = 2000,
    *,
    target: int | None = None,
    filed_at: dt.datetime | None = None,
    probation: bool = False,
) -> Assessment:
    return Assessment.objects.create(
        user=user,
        month=month,
        threshold=threshold,
        performance_pay=pay,
        target=target,
        target_filed_at=filed_at or dt.datetime(month.year, month.month, 1, 9, 0, tzinfo=dt.UTC),
        on_probation=probation,
        region_id=user.team.region_id if user.team_id else user.region_id,
    )
