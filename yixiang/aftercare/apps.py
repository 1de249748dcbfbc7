from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AftercareConfig(AppConfig):
    name = "yixiang.aftercare"
    verbose_name = _("After-sale care")  # the admin's section header
    label = "aftercare"
