from django.urls import path

from yixiang.accounts import views

urlpatterns = [
    path("account/", views.account, name="account"),
    path("account/password/", views.account_password, name="account_password"),
    path("account/tokens/", views.account_token_create, name="account_token_create"),
    path("account/tokens/<int:token_id>/revoke/", views.account_token_revoke, name="account_token_revoke"),
]
