from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class PipelineConfig(AppConfig):
    name = "yixiang.pipeline"
    verbose_name = _("Follow-ups and public pool")  # the admin's section header
    label = "pipeline"

    def ready(self) -> None:
        # The statutory calendar is seeded from the chinesecalendar package after every migrate
        # (and every flush, which re-emits post_migrate), for the years the table lacks.
        from yixiang.pipeline.holidays import seed_after_migrate

        post_migrate.connect(seed_after_migrate, sender=self, dispatch_uid="pipeline_seed_holidays")
