from django.urls import path

from yixiang.aftercare import views

urlpatterns = [
    path("care/", views.care, name="care"),
    path("care/tasks/<int:pk>/done/", views.care_task_done, name="care_task_done"),
    path("care/regional-events/", views.regional_events, name="regional_events"),
    path("care/tiers/", views.value_tiers, name="value_tiers"),
    path("customers/<int:pk>/aftercare/panel/", views.customer_aftercare_panel, name="customer_aftercare_panel"),
    path(
        "customers/<int:pk>/aftercare/<slug:action>/",
        views.customer_aftercare_action,
        name="customer_aftercare_action",
    ),
    path("aftercare/payouts/<int:pk>/paid/", views.payout_paid, name="aftercare_payout_paid"),
    path("aftercare/payouts/<int:pk>/paid/undo/", views.payout_paid_undo, name="aftercare_payout_paid_undo"),
    path("aftercare/payments/<int:pk>/undo/", views.payment_undo, name="aftercare_payment_undo"),
    path("aftercare/incidents/<int:pk>/", views.incident_edit, name="aftercare_incident"),
    path("campaigns/", views.campaign_list, name="campaign_list"),
    path("campaigns/new/", views.campaign_create, name="campaign_create"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign_detail"),
    path("campaigns/<int:pk>/launch/", views.campaign_launch, name="campaign_launch"),
    path("campaigns/messages/<int:pk>/<slug:action>/", views.message_action, name="campaign_message_action"),
    path("hooks/sms/yunpian/", views.sms_inbound_yunpian, name="sms_inbound_yunpian"),
]
