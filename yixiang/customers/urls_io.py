from django.urls import path

from yixiang.customers import views_io

urlpatterns = [
    path("customers/import/", views_io.customer_import, name="customer_import"),
    path(
        "customers/import/template.<str:fmt>",
        views_io.customer_import_template,
        name="customer_import_template",
    ),
    path("customers/import/<int:pk>/", views_io.customer_import_job, name="customer_import_job"),
    path("customers/import/<int:pk>/run/", views_io.customer_import_run, name="customer_import_run"),
    path("customers/export/", views_io.customer_export, name="customer_export"),
]
