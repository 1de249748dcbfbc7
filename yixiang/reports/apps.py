from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "yixiang.reports"
    verbose_name = _("Reports")  # the admin's section header
    label = "reports"
