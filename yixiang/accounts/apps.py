from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "yixiang.accounts"
    verbose_name = _("Staff and teams")  # the admin's section header
    label = "accounts"

    def ready(self) -> None:
        # tasks.py listens to queued webhook deliveries (in the web process too, not only in Huey's).
        from yixiang.accounts import tasks  # noqa: F401
