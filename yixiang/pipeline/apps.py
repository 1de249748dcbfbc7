from django.apps import AppConfig


class PipelineConfig(AppConfig):
    name = "yixiang.pipeline"
    label = "pipeline"
