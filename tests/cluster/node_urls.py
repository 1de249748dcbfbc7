"""The app's URLs plus one test-only slow page: a request still in flight when the node is told to
stop (graceful shutdown)."""

import time

from django.http import HttpRequest, HttpResponse
from django.urls import path

from yixiang.urls import urlpatterns as app_urlpatterns


def slow(request: HttpRequest) -> HttpResponse:
    time.sleep(float(request.GET.get("seconds", "2")))
    return HttpResponse("done")


urlpatterns = [path("test-slow", slow), *app_urlpatterns]
