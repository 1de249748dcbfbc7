from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "yixiang.accounts"
    label = "accounts"
