"""The foundation's pages plus stand-ins for the optional pages other apps provide."""

from django.http import HttpResponse
from django.urls import path

from yixiang.web.tests.urls_without_extras import urlpatterns as base


def _stub(request, pk: int | None = None):
    return HttpResponse("stub")


urlpatterns = [
    path("extras/agenda/", _stub, name="agenda"),
    path("extras/export/", _stub, name="customer_export"),
    path("extras/import/", _stub, name="customer_import"),
    path("extras/pipeline/<int:pk>/", _stub, name="customer_pipeline_panel"),
    path("extras/aftercare/<int:pk>/", _stub, name="customer_aftercare_panel"),
    *base,
]
