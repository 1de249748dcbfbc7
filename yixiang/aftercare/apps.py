from django.apps import AppConfig


class AftercareConfig(AppConfig):
    name = "yixiang.aftercare"
    label = "aftercare"
