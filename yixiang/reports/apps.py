from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "yixiang.reports"
    verbose_name = _("Reports")  # the admin's section header
    label = "reports"

    def ready(self) -> None:
        # tasks.py listens to the digests planned by services (and registers the periodic jobs).
        from yixiang.reports import tasks  # noqa: F401
