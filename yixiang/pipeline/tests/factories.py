"""Small helpers to build pipeline test data through the real services."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from yixiang.customers.models import Customer


def days_ago(n: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=n)


def set_state(customer: Customer, **fields) -> Customer:
    """Put a customer in a given pipeline state (held since, due date …) for a scenario."""
    Customer.objects.filter(pk=customer.pk).update(**fields)
    customer.refresh_from_db()
    return customer
