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
        from yixiang.pipeline.selectors import owner_history

        # The archive's history shows the owner changes, with their reasons in the pipeline's words.
        display.RELEASE_REASON_WORDS.update(ReleaseReason.choices)
        display.OWNER_CHANGE_WORDS.update(OwnerChange.Reason.choices)
        if owner_history not in display.OWNER_HISTORY:
            display.OWNER_HISTORY.append(owner_history)

        # An imported stage is a judgment like a live one: one StageChange row per customer.
        from yixiang.customers.import_writer import register_stage_recorder
        from yixiang.pipeline.services import record_imported_stages

        register_stage_recorder(record_imported_stages)

        post_migrate.connect(seed_after_migrate, sender=self, dispatch_uid="pipeline_seed_holidays")
