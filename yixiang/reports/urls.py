from django.urls import path

from yixiang.reports import views

urlpatterns = [
    path("reports/", views.pipeline, name="reports"),
    path("reports/activity/", views.activity, name="reports_activity"),
    path("reports/aftercare/", views.aftercare, name="reports_aftercare"),
    path("reports/incentives/", views.incentives, name="reports_incentives"),
    path("reports/weekly/", views.weekly, name="reports_weekly"),
    path("reports/export/<str:section>.xlsx", views.export, name="reports_export"),
    path("reports/customers/<int:customer_id>/win/", views.win_probability, name="reports_win_probability"),
    path("reports/subscriptions/", views.subscriptions, name="reports_subscriptions"),
    path("reports/subscriptions/calendar/", views.calendar_token, name="reports_calendar_token"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
]
