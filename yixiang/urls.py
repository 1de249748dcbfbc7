from importlib import import_module
from importlib.util import find_spec

from django.urls import include, path

from yixiang.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
]

# Each app brings its own urls.py (web pages); the web app holds login and home.
for _app in ("web", "customers", "pipeline", "aftercare", "incentives", "reports", "accounts"):
    if find_spec(f"yixiang.{_app}.urls") is not None:
        urlpatterns.append(path("", include(import_module(f"yixiang.{_app}.urls"))))
