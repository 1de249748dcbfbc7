from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "yixiang.customers"
    label = "customers"
