from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AftercareConfig(AppConfig):
    name = "yixiang.aftercare"
    verbose_name = _("After-sale care")  # the admin's section header
    label = "aftercare"

    def ready(self) -> None:
        # aftercare listens to the pipeline (signing, the agenda) instead of the pipeline calling it,
        # and tasks.py listens to campaign launches.
        from yixiang.aftercare import receivers, tasks  # noqa: F401
