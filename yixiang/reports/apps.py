from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "yixiang.reports"
    label = "reports"
