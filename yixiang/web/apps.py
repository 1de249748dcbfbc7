from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "yixiang.web"
    label = "web"
