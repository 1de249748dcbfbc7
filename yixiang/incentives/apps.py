from django.apps import AppConfig


class IncentivesConfig(AppConfig):
    name = "yixiang.incentives"
    label = "incentives"
