from axes.apps import AppConfig as AxesAppConfig
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop


class WebConfig(AppConfig):
    name = "yixiang.web"
    label = "web"


class AxesConfig(AxesAppConfig):
    """django-axes with a Chinese section name in the admin (it ships no zh_Hans catalogue)."""

    verbose_name = _("Login protection")


# django-axes' own model names, kept in the project catalogue (yixiang/locale) so that the
# admin shows them in Chinese; makemessages finds them here.
AXES_MODEL_NAMES = [
    gettext_noop("access attempt"),
    gettext_noop("access attempts"),
    gettext_noop("access failure"),
    gettext_noop("access failures"),
    gettext_noop("access log"),
    gettext_noop("access logs"),
    gettext_noop("access attempt expiration"),
    gettext_noop("access attempt expirations"),
]
