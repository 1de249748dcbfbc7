from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncentivesConfig(AppConfig):
    name = "yixiang.incentives"
    verbose_name = _("Incentives")  # the admin's section header
    label = "incentives"
