from django.urls import path

from yixiang.customers import views

urlpatterns = [
    path("customers/", views.customer_list, name="customer_list"),
    path("customers/new/", views.customer_create, name="customer_create"),
    path("customers/trash/", views.customer_trash, name="customer_trash"),
    path("customers/<int:pk>/", views.customer_detail, name="customer_detail"),
    path("customers/<int:pk>/history/", views.customer_history, name="customer_history"),
    path("customers/<int:pk>/edit/", views.customer_edit, name="customer_edit"),
    path("customers/<int:pk>/delete/", views.customer_delete, name="customer_delete"),
    path("customers/<int:pk>/restore/", views.customer_restore, name="customer_restore"),
    path("customers/<int:pk>/tags/", views.customer_tags, name="customer_tags"),
    path("customers/<int:pk>/contacts/", views.customer_contact_add, name="customer_contact_add"),
    path(
        "customers/<int:pk>/contacts/<int:contact_id>/remove/",
        views.customer_contact_remove,
        name="customer_contact_remove",
    ),
    path("customers/<int:pk>/unmask/", views.customer_unmask, name="customer_unmask"),
]
