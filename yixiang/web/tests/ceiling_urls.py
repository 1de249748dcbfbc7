"""Test-only routes for the request ceiling: one slow query, and many short ones."""

from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.urls import path

from yixiang import urls as site_urls


def one_slow_query(request):
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000000000) SELECT count(*) FROM n"
            )
        else:
            cur.execute("SELECT pg_sleep(30)")
        cur.fetchall()
    return HttpResponse("done")


def many_short_queries(request):
    with connection.cursor() as cur:
        for _ in range(10_000_000):
            cur.execute("SELECT 1")
    return HttpResponse("done")


def api_slow(request):
    one_slow_query(request)
    return JsonResponse({})


urlpatterns = [
    path("slow/", one_slow_query),
    path("chain/", many_short_queries),
    path("api/v1/slow", api_slow),
    *site_urls.urlpatterns,  # the pages' base template links to them
]
