"""Only the foundation's pages: none of the optional pages other apps add (agenda, export …)."""

from django.urls import include, path

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("yixiang.web.urls")),
    path("", include("yixiang.accounts.urls")),
    path("", include("yixiang.customers.urls")),
]
