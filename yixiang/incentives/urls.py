from django.urls import path

from yixiang.incentives import views

urlpatterns = [
    path("incentives/", views.statements, name="incentive_statements"),
    path("incentives/export.xlsx", views.statements_xlsx, name="incentive_statements_xlsx"),
    path("incentives/close/", views.month_close, name="incentive_month_close"),
    path("incentives/schemes/", views.versions, name="incentive_versions"),
    path("incentives/schemes/new/", views.version_edit, name="incentive_version_create"),
    path("incentives/schemes/<int:pk>/", views.version_edit, name="incentive_version_edit"),
    path("incentives/assessments/", views.assessments, name="incentive_assessments"),
    path("incentives/developed/", views.developed, name="incentive_developed"),
    path("incentives/funds/", views.month_funds, name="incentive_month_funds"),
]
