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
        from yixiang.customers import display
        from yixiang.pipeline.holidays import seed_after_migrate
        from yixiang.pipeline.models import OwnerChange, ReleaseReason

        # The archive's history shows owner-change reasons in the pipeline's words.
        display.RELEASE_REASON_WORDS.update(ReleaseReason.choices)
        display.OWNER_CHANGE_WORDS.update(OwnerChange.Reason.choices)

        # An imported stage is a judgment like a live one: one StageChange row per customer.
        from yixiang.customers.import_writer import register_stage_recorder
        from yixiang.pipeline.services import record_imported_stages

        register_stage_recorder(record_imported_stages)

        post_migrate.connect(seed_after_migrate, sender=self, dispatch_uid="pipeline_seed_holidays")
