from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "yixiang.customers"
    verbose_name = _("Customer records")  # the admin's section header
    label = "customers"
