from django.contrib import admin
from django.urls import include, path

from yixiang import health
from yixiang.accounts import urls as accounts_urls
from yixiang.aftercare import urls as aftercare_urls
from yixiang.api import api
from yixiang.customers import urls as customers_urls
from yixiang.customers import urls_io as customers_io_urls
from yixiang.incentives import urls as incentives_urls
from yixiang.pipeline import urls as pipeline_urls
from yixiang.reports import urls as reports_urls
from yixiang.web import urls as web_urls

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),  # load balancer: process up
    path("readyz", health.readyz, name="readyz"),  # load balancer: database and queue reachable
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    # Each app brings its own urls.py (web pages); the web app holds login and home.
    path("", include(web_urls)),
    path("", include(accounts_urls)),
    path("", include(customers_urls)),
    path("", include(customers_io_urls)),  # import / export pages
    path("", include(pipeline_urls)),
    path("", include(aftercare_urls)),
    path("", include(incentives_urls)),
    path("", include(reports_urls)),
]
