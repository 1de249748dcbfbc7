"""Small helpers that build after-sale test data through the real services where one exists."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from yixiang.customers.models import Customer


def sign(customer: Customer, *, on: dt.datetime | None = None) -> Customer:
    """Mark a customer signed (E class). Stage changes belong to the pipeline; tests set it directly."""
    Customer.objects.filter(pk=customer.pk).update(stage=5, signed_at=on or timezone.now())
    customer.refresh_from_db()
    return customer


def pay(customer: Customer, amount, on: dt.date, actor=None):
    from yixiang.aftercare import services_contracts

    return services_contracts.payment_record(
        actor=actor or customer.owner, customer=customer, paid_on=on, amount=Decimal(str(amount))
    )
