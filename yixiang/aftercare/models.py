"""Contracts and payouts of signed (E-class) customers."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yixiang.customers.fields import EncryptedTextField, mask_number
from yixiang.customers.models import Customer


class Contract(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        ENDED = "ended", _("Ended")
        RENEWED = "renewed", _("Renewed")
        CANCELLED = "cancelled", _("Cancelled")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contracts")
    name = models.CharField(_("project name"), max_length=200)
    number = models.CharField(_("contract number"), max_length=60, unique=True)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"), null=True, blank=True)
    amount = models.DecimalField(_("amount (yuan)"), max_digits=14, decimal_places=2)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    payout_card = EncryptedTextField(_("payout bank card"), blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["-start_date", "-id"]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"

    @property
    def payout_card_masked(self) -> str:
        return mask_number(self.payout_card)


class Payout(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        PAID = "paid", _("Paid")
        LATE = "late", _("Late")

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="payouts")
    due_date = models.DateField(_("due date"))
    amount = models.DecimalField(_("amount (yuan)"), max_digits=14, decimal_places=2)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.SCHEDULED)
    paid_on = models.DateField(_("paid on"), null=True, blank=True)

    class Meta:
        verbose_name = _("payout")
        verbose_name_plural = _("payouts")
        ordering = ["due_date", "id"]
        indexes = [models.Index(fields=["due_date", "status"], name="payout_due_status")]


class Payment(models.Model):
    """Money received from a customer (the incentive scheme reads first-month totals from these)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="payments")
    contract = models.ForeignKey(Contract, null=True, blank=True, on_delete=models.SET_NULL, related_name="payments")
    paid_on = models.DateField(_("paid on"))
    amount = models.DecimalField(_("amount (yuan)"), max_digits=14, decimal_places=2)
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["paid_on", "id"]
        indexes = [models.Index(fields=["customer", "paid_on"], name="payment_customer_paid")]


class Shipment(models.Model):
    """An order shipped to a customer; a month with a shipment is an active month."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="shipments")
    shipped_on = models.DateField(_("shipped on"))
    order_no = models.CharField(_("order number"), max_length=60, blank=True)
    amount = models.DecimalField(_("amount (yuan)"), max_digits=14, decimal_places=2, null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        ordering = ["shipped_on", "id"]
        indexes = [models.Index(fields=["customer", "shipped_on"], name="shipment_customer_shipped")]
