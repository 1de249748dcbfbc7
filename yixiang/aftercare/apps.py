from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AftercareConfig(AppConfig):
    name = "yixiang.aftercare"
    verbose_name = _("After-sale care")  # the admin's section header
    label = "aftercare"

    def ready(self) -> None:
        # aftercare listens to the pipeline (signing, the agenda) instead of the pipeline calling it,
        # and tasks.py listens to campaign launches.
        # The customer import runs the history kinds (follow-ups, contracts...) through this app.
        from yixiang.aftercare import history_import, receivers, tasks  # noqa: F401
        from yixiang.customers import importing
        from yixiang.customers.models import ImportJob

        for kind in ImportJob.Kind.values:
            if kind != ImportJob.Kind.CUSTOMERS:
                importing.register_kind(kind, history_import.run)
