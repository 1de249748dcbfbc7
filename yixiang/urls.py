from importlib import import_module
from importlib.util import find_spec

from django.contrib import admin
from django.urls import include, path

from yixiang import health
from yixiang.api import api

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),  # load balancer: process up
    path("readyz", health.readyz, name="readyz"),  # load balancer: database and queue reachable
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]

# Each app brings its own urls.py (web pages); the web app holds login and home.
_URL_MODULES = (
    "web.urls",
    "accounts.urls",
    "customers.urls",
    "customers.urls_io",  # import / export pages
    "pipeline.urls",
    "aftercare.urls",
    "incentives.urls",
    "reports.urls",
)
for _mod in _URL_MODULES:
    if find_spec(f"yixiang.{_mod}") is not None:
        urlpatterns.append(path("", include(import_module(f"yixiang.{_mod}"))))
