from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PipelineConfig(AppConfig):
    name = "yixiang.pipeline"
    verbose_name = _("Follow-ups and public pool")  # the admin's section header
    label = "pipeline"
